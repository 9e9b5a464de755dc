//! `goldplan receipt test`: a receipt page judged in a headless Chromium (goldplan-receipt).

use std::path::PathBuf;

use clap::Args;
use goldplan_receipt::{TestOptions, test_receipt};

use crate::output::{Out, exit};

/// `goldplan receipt test` arguments.
#[derive(Args)]
pub struct ReceiptTestArgs {
    /// The receipt link as configured in the partner portal, e.g. https://localhost:8443/receipt.
    url: String,
    /// The special merchant of the order (sub_mch_id).
    #[arg(long, default_value = "1900000109")]
    sub_mch_id: String,
    /// The merchant order number the page is opened for (a fresh, unknown one by default).
    #[arg(long)]
    out_trade_no: Option<String>,
    /// The order's WeChat transaction id, which check_code covers.
    #[arg(long)]
    transaction_id: Option<String>,
    /// Write a PNG of the whole Gold Plan page here.
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,
    /// The Chromium executable (default: $GOLDPLAN_CHROMIUM, then chromium on PATH).
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
}

/// Runs the tester; exit 0 only if every rule passes, 7 if one fails. A tester that cannot
/// run (no Chromium, a bad URL) is an error of the core's families, printed like any other.
pub async fn run(args: ReceiptTestArgs, out: Out) -> goldplan::Result<u8> {
    let options = TestOptions {
        sub_mch_id: args.sub_mch_id,
        out_trade_no: args.out_trade_no,
        transaction_id: args.transaction_id,
        screenshot: args.screenshot,
        chromium: args.chromium,
    };
    let report = test_receipt(&args.url, &options)
        .await
        .map_err(goldplan::Error::from)?;
    if out.json {
        let value = serde_json::to_value(&report)
            .map_err(|e| goldplan::Error::Internal(format!("the report: {e}")))?;
        out.document(&value);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.passed {
        exit::OK
    } else {
        exit::RECEIPT
    })
}
