//! Image upload (spec §6): the `meta` JSON that is signed, and the multipart body that carries
//! it and the file.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `POST /v3/merchant/media/upload`.
pub const MEDIA_UPLOAD_PATH: &str = "/v3/merchant/media/upload";

/// Largest image accepted (5 MB, the newest documented limit).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Above this size older documentation says images are refused; a warning is logged.
pub const WARN_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// Longest file name.
pub const MAX_FILENAME_CHARS: usize = 128;

/// The signed `meta` part: keys in the order `filename`, `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// File name ending in .jpg, .jpeg, .bmp or .png.
    pub filename: String,
    /// Lower-case hex SHA-256 of the file bytes.
    pub sha256: String,
}

/// Response of the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MediaUploadResponse {
    /// The id to reference the image by.
    pub media_id: String,
}

/// A ready-to-send multipart upload.
#[derive(Debug, Clone)]
pub struct MultipartUpload {
    /// The compact `meta` JSON: the BODY line of the signature.
    pub meta_json: String,
    /// `multipart/form-data; boundary=…`.
    pub content_type: String,
    /// The complete multipart body.
    pub body: Vec<u8>,
}

fn image_content_type(filename: &str) -> Option<&'static str> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        Some("image/jpeg")
    } else if lower.ends_with(".png") {
        Some("image/png")
    } else if lower.ends_with(".bmp") {
        Some("image/bmp")
    } else {
        None
    }
}

/// Validates the image and builds the multipart body with `boundary` (the caller draws it at
/// random; it must not occur in the file).
pub fn build_image_upload(filename: &str, bytes: &[u8], boundary: &str) -> Result<MultipartUpload> {
    let chars = filename.chars().count();
    if chars == 0 || chars > MAX_FILENAME_CHARS {
        return Err(Error::InvalidInput(format!(
            "the file name must be 1 to {MAX_FILENAME_CHARS} characters, got {chars}"
        )));
    }
    if filename.contains(['"', '\r', '\n', '/', '\\']) {
        return Err(Error::InvalidInput(
            "the file name must not contain quotes, slashes or line breaks".into(),
        ));
    }
    let content_type = image_content_type(filename).ok_or_else(|| {
        Error::InvalidInput(format!(
            "image file names must end in .jpg, .jpeg, .png or .bmp; got {}",
            crate::redact::Rejected(filename)
        ))
    })?;
    if bytes.is_empty() {
        return Err(Error::InvalidInput("the image is empty".into()));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Error::InvalidInput(format!(
            "the image is {} bytes; the limit is {MAX_IMAGE_BYTES}",
            bytes.len()
        )));
    }
    if bytes.len() > WARN_IMAGE_BYTES {
        tracing::warn!(
            size = bytes.len(),
            "image larger than 2 MB: some WeChat Pay endpoints refuse it"
        );
    }
    if boundary.is_empty()
        || bytes
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    {
        return Err(Error::InvalidInput(
            "the multipart boundary occurs in the file".into(),
        ));
    }
    let meta = Meta {
        filename: filename.to_owned(),
        sha256: hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)),
    };
    let meta_json = serde_json::to_string(&meta)
        .map_err(|e| Error::InvalidInput(format!("cannot encode meta: {e}")))?;
    let mut body = Vec::with_capacity(bytes.len() + meta_json.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta_json}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(MultipartUpload {
        meta_json,
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_matches_the_r4_vector() {
        let up = build_image_upload("logo.png", b"hello wechatpay", "b0undary").unwrap();
        assert_eq!(
            up.meta_json,
            r#"{"filename":"logo.png","sha256":"a7b73695002855c3eb342921932e6b7b7a6ee4cb4ef3706ef66f7f42d331f1b7"}"#
        );
        assert_eq!(up.content_type, "multipart/form-data; boundary=b0undary");
        let text = String::from_utf8(up.body).unwrap();
        assert!(text.starts_with("--b0undary\r\nContent-Disposition: form-data; name=\"meta\""));
        assert!(text.contains(
            "filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\nhello wechatpay\r\n"
        ));
        assert!(text.ends_with("--b0undary--\r\n"));
    }

    #[test]
    fn rejects_bad_names_sizes_and_boundaries() {
        assert!(build_image_upload("logo.gif", b"x", "b").is_err());
        assert!(build_image_upload("", b"x", "b").is_err());
        assert!(build_image_upload("a\".png", b"x", "b").is_err());
        assert!(build_image_upload("a.PNG", b"", "zz").is_err());
        assert!(build_image_upload("a.png", &vec![0u8; MAX_IMAGE_BYTES + 1], "zz").is_err());
        assert!(build_image_upload("a.png", b"xxzzxx", "zz").is_err());
        assert!(build_image_upload("A.JPEG", b"x", "zz").is_ok());
    }
}
