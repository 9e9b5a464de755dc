//! The demo's merchant receipt page: a provider's receipt server in a few lines of Rust, on
//! 127.0.0.1, that the demo's last step checks in a headless Chromium (`goldplan-receipt`).
//!
//! It does what `examples/receipt/python` and `examples/receipt/node` do: verifies `check_code`
//! for the order it resolves with one bounded query, then posts `onIframeReady` with
//! `SHOW_CUSTOM_PAGE`, or `SHOW_OFFICIAL_PAGE` at once when anything fails.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use axum::routing::get;
use goldplan::{Client, receipt};

/// The receipt page's path; the configured link is `http://127.0.0.1:PORT` + this.
pub const RECEIPT_PATH: &str = "/goldplan/receipt";

/// Of WeChat's 3 s, what the order query may take (PAYMENTS.md §6.1).
const QUERY_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
struct Page {
    client: Client,
    link: String,
    sub_mchid: String,
}

/// Serves the receipt page for `sub_mchid`'s orders; returns its configured link.
pub async fn serve(client: Client, sub_mchid: &str) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let link = format!("http://{}{RECEIPT_PATH}", listener.local_addr()?);
    let page = Page {
        client,
        link: link.clone(),
        sub_mchid: sub_mchid.to_owned(),
    };
    let app = Router::new()
        .route(RECEIPT_PATH, get(render))
        .with_state(page);
    // Lives as long as the demo's runtime.
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(link)
}

/// The verified order's WeChat transaction id, if every check passes.
async fn verified(page: &Page, url: &str) -> Option<(String, String)> {
    let params = receipt::parse_receipt_query(url).ok()?;
    // Attacker-controlled until check_code verifies: query only for our special merchant.
    if params.sub_mch_id.raw != page.sub_mchid {
        return None;
    }
    let resolved = page
        .client
        .resolve_transaction_id(
            &params.sub_mch_id.raw,
            &params.out_trade_no.raw,
            QUERY_TIMEOUT,
        )
        .await
        .ok()?;
    let transaction_id = resolved.transaction_id?;
    if !params.verify(&page.link, &transaction_id) {
        return None;
    }
    Some((params.out_trade_no.raw, transaction_id))
}

async fn render(State(page): State<Page>, uri: Uri) -> Html<String> {
    let order = verified(&page, &uri.to_string()).await;
    let (style, body) = match &order {
        // Both values passed the SDK's character checks: letters, digits and `_-|*`.
        Some((out_trade_no, transaction_id)) => (
            "SHOW_CUSTOM_PAGE",
            format!(
                "<h2>感谢惠顾</h2><p>商户单号 {out_trade_no}</p><p>微信支付单号 {transaction_id}</p>\
                 <button type=\"button\" id=\"orders\">查看订单</button>\
                 <script>document.getElementById('orders').addEventListener('click', () => \
                 parent.postMessage(JSON.stringify({{action: 'jumpOut', jumpOutUrl: \
                 'https://shop.example.com/orders/{out_trade_no}'}}), 'https://payapp.weixin.qq.com'));</script>"
            ),
        ),
        None => ("SHOW_OFFICIAL_PAGE", String::new()),
    };
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <script src=\"https://wx.gtimg.com/pay_h5/goldplan/js/jgoldplan-1.0.0.js\"></script>\
         <style>html{{font-size:16px}} body{{margin:0;padding:16px;font-family:sans-serif}}</style>\
         </head><body>{body}<script>parent.postMessage(JSON.stringify({{action: 'onIframeReady', \
         displayStyle: '{style}'}}), 'https://payapp.weixin.qq.com');</script></body></html>"
    ))
}
