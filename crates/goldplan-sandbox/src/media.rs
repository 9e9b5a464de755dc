//! `POST /v3/merchant/media/upload` (spec §6): multipart `meta` + `file`, the request signed
//! over the `meta` JSON, the file checked against `meta.sha256`, answered with a `media_id`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use base64::Engine;
use serde_json::Value;

use crate::model::MediaRecord;
use crate::state::Shared;
use crate::wire::{Ctx, Reply, check_headers};

const IMAGE_EXTENSIONS: [&str; 4] = [".jpg", ".jpeg", ".bmp", ".png"];

/// The multipart boundary: from `Content-Type`, or (like the real gateway tolerates for
/// clients that omit it) from the body's first line.
fn boundary(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    if let Ok(b) = multer::parse_boundary(content_type) {
        return Some(b);
    }
    let first_line = body.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(first_line).ok()?.trim_end_matches('\r');
    line.strip_prefix("--")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

struct Parts {
    meta: Option<Bytes>,
    file: Option<Bytes>,
}

async fn read_parts(body: Bytes, boundary: String) -> Result<Parts, String> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Parts {
        meta: None,
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| e.to_string())?;
        match name.as_str() {
            "meta" => parts.meta = Some(bytes),
            "file" => parts.file = Some(bytes),
            _ => {}
        }
    }
    Ok(parts)
}

pub(crate) async fn upload(
    app: &Arc<Shared>,
    headers: &HeaderMap,
    path_and_query: &str,
    body: &Bytes,
    ctx: &mut Ctx,
) -> Reply {
    // Headers first, as for every other endpoint; the signature covers `meta`, which needs
    // the multipart body.
    let checked = match check_headers(app, headers, ctx) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let Some(boundary) = boundary(headers, body) else {
        return Reply::invalid_request("Content-Type必须为multipart/form-data");
    };
    let parts = match read_parts(body.clone(), boundary).await {
        Ok(p) => p,
        Err(e) => return Reply::param_error("/", None, &format!("invalid multipart body: {e}")),
    };
    let Some(meta_bytes) = parts.meta else {
        return Reply::param_error("meta", None, "the meta part is required");
    };
    let caller = match checked.verify(app, "POST", path_and_query, &meta_bytes) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let meta = match serde_json::from_slice::<Value>(&meta_bytes) {
        Ok(Value::Object(m)) => m,
        _ => return Reply::param_error("meta", None, "meta must be a JSON object"),
    };
    let filename = match meta.get("filename") {
        Some(Value::String(f)) if !f.is_empty() && f.chars().count() <= 128 => f.clone(),
        other => {
            return Reply::param_error(
                "/filename",
                other,
                "a file name of 1 to 128 characters is required",
            );
        }
    };
    let lower = filename.to_ascii_lowercase();
    if !IMAGE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext)) {
        return Reply::param_error(
            "/filename",
            meta.get("filename"),
            "the file name must end in .jpg, .jpeg, .bmp or .png",
        );
    }
    let claimed = match meta.get("sha256") {
        Some(Value::String(s)) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            s.to_ascii_lowercase()
        }
        other => return Reply::param_error("/sha256", other, "64 hexadecimal characters required"),
    };
    let Some(file) = parts.file else {
        return Reply::param_error("file", None, "the file part is required");
    };
    let limit = app.lock().settings.max_upload_bytes;
    if file.is_empty() || file.len() > limit {
        return Reply::invalid_request("图片大小超过限制或为空");
    }
    let actual = hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &file));
    if actual != claimed {
        return Reply::param_error(
            "/sha256",
            meta.get("sha256"),
            "does not match the SHA-256 of the file",
        );
    }
    let media_id = match crate::identity::random_bytes::<48>() {
        Ok(b) => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
        Err(_) => return Reply::error(500, "SYSTEM_ERROR", "系统错误"),
    };
    let record = MediaRecord {
        media_id: media_id.clone(),
        mchid: caller.mchid,
        filename,
        sha256: actual,
        size: file.len(),
        uploaded_at: app.now(),
    };
    app.lock().media.insert(media_id.clone(), record);
    app.persist_state_logged().await;
    Reply::json(200, &serde_json::json!({ "media_id": media_id }))
}
