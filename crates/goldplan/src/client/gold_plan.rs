//! [`Client::call`], the sender of every [`ApiCall`], and the five Gold Plan (点金计划)
//! operations as typed calls (spec §8).

use super::retry::Outgoing;
use super::{Client, Reply};
use crate::error::Result;
use crate::gold_plan::{
    ChangeCustomPageStatusRequest, ChangeCustomPageStatusResponse, ChangeGoldPlanStatusRequest,
    ChangeGoldPlanStatusResponse, CloseAdvertisingShowRequest, IndustryType,
    OpenAdvertisingShowRequest, OperationPayScene, OperationType,
    SetAdvertisingIndustryFilterRequest,
};
use crate::service::{ApiCall, decode_reply, request_body, request_target};

impl Client {
    /// Sends any [`ApiCall`]: validated, signed, sent (again after an ambiguous failure only
    /// when the call is idempotent), the answer verified and decoded.
    pub async fn call<R: ApiCall>(&self, call: &R) -> Result<Reply<R::Reply>> {
        call.validate()?;
        let target = request_target(call)?;
        let body = request_body(call)?;
        let response = self
            .execute(Outgoing {
                method: R::ENDPOINT.method.to_owned(),
                canonical_url: target,
                signed_body: body.as_deref().unwrap_or_default(),
                wire_body: body.as_deref().unwrap_or_default(),
                content_type: body.as_ref().map(|_| "application/json"),
                wechatpay_serial: None,
                idempotent: R::IDEMPOTENT,
                verify: true,
            })
            .await?;
        Ok(Reply {
            data: decode_reply(&response.body, response.request_id.as_deref())?,
            request_id: response.request_id,
        })
    }

    /// 点金计划管理: opens or closes Gold Plan for a special merchant. Without a scene the
    /// server applies JSAPI only.
    pub async fn change_gold_plan_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
        operation_pay_scene: Option<OperationPayScene>,
    ) -> Result<Reply<ChangeGoldPlanStatusResponse>> {
        self.call(&ChangeGoldPlanStatusRequest {
            sub_mchid: sub_mchid.to_owned(),
            operation_type,
            operation_pay_scene,
        })
        .await
    }

    /// 商家小票管理: turns the merchant receipt on or off for a special merchant.
    pub async fn change_custom_page_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
    ) -> Result<Reply<ChangeCustomPageStatusResponse>> {
        self.call(&ChangeCustomPageStatusRequest {
            sub_mchid: sub_mchid.to_owned(),
            operation_type,
        })
        .await
    }

    /// 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
    pub async fn set_advertising_industry_filter(
        &self,
        sub_mchid: &str,
        filters: Vec<IndustryType>,
    ) -> Result<Reply<()>> {
        let reply = self
            .call(&SetAdvertisingIndustryFilterRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(Reply {
            data: (),
            request_id: reply.request_id,
        })
    }

    /// 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
    pub async fn open_advertising_show(
        &self,
        sub_mchid: &str,
        filters: Option<Vec<IndustryType>>,
    ) -> Result<Reply<()>> {
        let reply = self
            .call(&OpenAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(Reply {
            data: (),
            request_id: reply.request_id,
        })
    }

    /// 关闭广告展示: turns ad display off.
    pub async fn close_advertising_show(&self, sub_mchid: &str) -> Result<Reply<()>> {
        let reply = self
            .call(&CloseAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
            })
            .await?;
        Ok(Reply {
            data: (),
            request_id: reply.request_id,
        })
    }
}
