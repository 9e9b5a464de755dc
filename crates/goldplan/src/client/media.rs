//! The signed multipart image upload (spec §6).

use super::retry::Outgoing;
use super::{Client, Reply};
use crate::error::Result;
use crate::media::{self, MediaUploadResponse};
use crate::service::decode_reply;

impl Client {
    /// Uploads an image (spec §6) and returns its `media_id`.
    pub async fn upload_image(
        &self,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Reply<MediaUploadResponse>> {
        let boundary = format!("goldplan-{}", crate::sign::generate_nonce()?);
        let upload = media::build_image_upload(filename, bytes, &boundary)?;
        let response = self
            .execute(Outgoing {
                method: "POST".to_owned(),
                canonical_url: media::MEDIA_UPLOAD_PATH.to_owned(),
                signed_body: upload.meta_json.as_bytes(),
                wire_body: &upload.body,
                content_type: Some(&upload.content_type),
                wechatpay_serial: None,
                // The same image uploaded twice yields the same media: safe to repeat.
                idempotent: true,
                verify: true,
            })
            .await?;
        Ok(Reply {
            data: decode_reply(&response.body, response.request_id.as_deref())?,
            request_id: response.request_id,
        })
    }
}
