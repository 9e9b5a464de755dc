//! The Rust side of `bench/cost.py`: a client process as a user would run it (the default
//! multi-thread tokio runtime, a configuration file, a real socket to a sandbox *process*).
//!
//! ```text
//! cost_client limit --config sandbox.json --iterations 2000 [--verifies-per-sign 10]
//! cost_client run   --config sandbox.json --calls 2000 [--concurrency 16] [--operation prepay]
//! cost_client floor --config sandbox.json --calls 2000
//! ```
//!
//! `limit` prints the CPU floor of one call measured on this machine now: one RSA-2048
//! signature and one verification, in µs, each timed over many iterations of a tight loop. `run` makes `calls`
//! 点金计划管理 calls (OPEN, 200 with a signed JSON body), `concurrency` at a time, and prints the
//! wall time; the harness measures the process's CPU time from outside (user + system, all
//! threads). With `--operation prepay` the calls are partner JSAPI prepays instead (the same
//! order each time: the gateway answers its current `prepay_id`, as for a retry).
//!
//! `floor` makes the same calls with nothing but the RSA work and a socket: the sans-IO core
//! signs, the request goes out on one kept-alive blocking `TcpStream` as literal HTTP/1.1
//! bytes, the answer is read by `Content-Length` and its signature verified. No runtime, no
//! HTTP client, no JSON, one thread. It is the cheapest a real call can be on this machine,
//! the yardstick for what the round trip itself costs beyond `limit`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use goldplan::clock::SystemClock;
use goldplan::config::ClientConfig;
use goldplan::gold_plan::OperationType;
use goldplan::payments::{Amount, JsapiPrepayRequest, Payer};
use goldplan::sign::{RsaSigner, sign_request_blocking};
use goldplan::verify::{
    PublicKeyVerifier, VerificationPolicy, Verifier, WechatpayHeaders, verify_signed,
};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: usize) -> Result<usize, AnyError> {
    Ok(match arg(args, name) {
        Some(v) => v.parse()?,
        None => default,
    })
}

fn limit(
    config: &ClientConfig,
    iterations: usize,
    verifies_per_sign: usize,
) -> Result<(), AnyError> {
    let key = config.private_key()?;
    let verifier = PublicKeyVerifier::from_der("PUB_KEY_ID_bench", key.public_key_der())?;
    let message = b"1700000000\ncost-bench-nonce\n{\"sub_mchid\":\"1900000109\"}\n";
    let signature = key.sign_sha256(message)?;
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(key.sign_sha256(std::hint::black_box(message))?);
    }
    let sign_us = started.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    let started = Instant::now();
    let verifies = iterations * verifies_per_sign;
    for _ in 0..verifies {
        verifier.verify("PUB_KEY_ID_bench", message, &signature)?;
    }
    let verify_us = started.elapsed().as_secs_f64() * 1e6 / verifies.max(1) as f64;
    println!(r#"{{"sign_us":{sign_us:.2},"verify_us":{verify_us:.2}}}"#);
    Ok(())
}

/// The call `run` repeats.
#[derive(Clone, Copy)]
enum Call {
    /// 点金计划管理 OPEN.
    GoldPlan,
    /// A partner JSAPI prepay (a body of 300-odd bytes, a `{prepay_id}` answer).
    Prepay,
}

const SUB_MCHID: &str = "1900000109";

fn prepay_request(sp_mchid: &str) -> JsapiPrepayRequest {
    JsapiPrepayRequest {
        sp_appid: goldplan_sandbox::DEFAULT_SP_APPID.to_owned(),
        sp_mchid: sp_mchid.to_owned(),
        sub_appid: Some(goldplan_sandbox::DEFAULT_SUB_APPID.to_owned()),
        sub_mchid: SUB_MCHID.to_owned(),
        description: "点金计划测试商品".to_owned(),
        out_trade_no: "BENCH20261207".to_owned(),
        notify_url: "https://provider.example.com/wxpay/notify".to_owned(),
        amount: Amount {
            total: 100,
            currency: Some("CNY".to_owned()),
        },
        payer: Payer {
            sp_openid: None,
            sub_openid: Some(goldplan_sandbox::DEFAULT_SUB_OPENID.to_owned()),
        },
        ..JsapiPrepayRequest::default()
    }
}

async fn one_call(client: &goldplan::Client, call: Call) -> Result<(), goldplan::Error> {
    match call {
        Call::GoldPlan => client
            .change_gold_plan_status(SUB_MCHID, OperationType::Open, None)
            .await
            .map(drop),
        Call::Prepay => client
            .jsapi_prepay(&prepay_request(client.mchid()))
            .await
            .map(drop),
    }
}

async fn run(
    config: &ClientConfig,
    calls: usize,
    concurrency: usize,
    call: Call,
) -> Result<(), AnyError> {
    let client = config.build()?;
    // Warm: the connection is open and nothing is left lazy before the clock starts.
    one_call(&client, call).await?;
    let started = Instant::now();
    let workers = concurrency.max(1);
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let client = client.clone();
        let share = calls / workers + usize::from(w < calls % workers);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                one_call(&client, call).await?;
            }
            Ok::<(), goldplan::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let wall_s = started.elapsed().as_secs_f64();
    println!(r#"{{"calls":{calls},"concurrency":{workers},"wall_s":{wall_s:.6}}}"#);
    Ok(())
}

/// One signed 点金计划管理 call over a blocking socket: see `floor` in the module docs.
fn floor_call(
    stream: &mut BufReader<TcpStream>,
    host: &str,
    signer: &RsaSigner,
    verifier: &dyn Verifier,
    policy: &VerificationPolicy,
) -> Result<(), AnyError> {
    const PATH: &str = "/v3/goldplan/merchants/changegoldplanstatus";
    const BODY: &str = r#"{"sub_mchid":"1900000109","operation_type":"OPEN"}"#;
    let signed = sign_request_blocking(signer, &SystemClock, "POST", PATH, BODY.as_bytes())?;
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nUser-Agent: goldplan-cost-floor\r\n\
         Content-Length: {}\r\n\r\n{BODY}",
        signed.authorization.header_value()?,
        BODY.len()
    );
    stream.get_mut().write_all(request.as_bytes())?;
    let mut status = String::new();
    stream.read_line(&mut status)?;
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("unexpected answer: {}", status.trim()).into());
    }
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or("malformed header")?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse()?;
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    let wechatpay = WechatpayHeaders::from_pairs(headers.iter().map(|(n, v)| (n, v.as_bytes())))?;
    verify_signed(verifier, policy, &wechatpay, &body)?;
    Ok(())
}

fn floor(config: &ClientConfig, calls: usize) -> Result<(), AnyError> {
    let signer = RsaSigner::new(config.credentials()?);
    let verifier = config
        .public_key()?
        .ok_or("floor needs the sandbox in public-key mode")?;
    let policy = VerificationPolicy::default();
    let base = config
        .base_url
        .as_deref()
        .ok_or("the config has no base_url")?;
    let host = base
        .strip_prefix("http://")
        .ok_or("floor speaks plain HTTP to a local sandbox only")?
        .trim_end_matches('/');
    let socket = TcpStream::connect(host)?;
    socket.set_nodelay(true)?;
    let mut stream = BufReader::new(socket);
    floor_call(&mut stream, host, &signer, &verifier, &policy)?; // warm, as `run` does
    let started = Instant::now();
    for _ in 0..calls {
        floor_call(&mut stream, host, &signer, &verifier, &policy)?;
    }
    let wall_s = started.elapsed().as_secs_f64();
    println!(r#"{{"calls":{calls},"concurrency":1,"wall_s":{wall_s:.6}}}"#);
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().collect();
    let config_path = arg(&args, "--config").ok_or("--config sandbox.json is required")?;
    let config = ClientConfig::from_file(&config_path)?;
    match args.get(1).map(String::as_str) {
        // One verify per sign when counting instructions (bench/cost.py --instructions); ten
        // when timing, as a verify is short.
        Some("limit") => limit(
            &config,
            number(&args, "--iterations", 2000)?,
            number(&args, "--verifies-per-sign", 10)?,
        ),
        // The runtime `#[tokio::main]` would make, built for `run` only: `limit` and `floor`
        // run without one.
        Some("run") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(
                &config,
                number(&args, "--calls", 1000)?,
                number(&args, "--concurrency", 1)?,
                match arg(&args, "--operation").as_deref() {
                    None | Some("gold-plan") => Call::GoldPlan,
                    Some("prepay") => Call::Prepay,
                    Some(_) => return Err("--operation is gold-plan or prepay".into()),
                },
            )),
        Some("floor") => floor(&config, number(&args, "--calls", 1000)?),
        _ => Err("usage: cost_client limit|run|floor --config FILE [...]".into()),
    }
}
