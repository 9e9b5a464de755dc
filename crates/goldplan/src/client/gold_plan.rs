//! The five Gold Plan (点金计划) operations as typed calls (spec §8).

use super::response::{empty_reply, reply};
use super::retry::Outgoing;
use super::{Client, Reply, Response};
use crate::error::{Error, Result};
use crate::gold_plan::{
    ChangeCustomPageStatusRequest, ChangeCustomPageStatusResponse, ChangeGoldPlanStatusRequest,
    ChangeGoldPlanStatusResponse, CloseAdvertisingShowRequest, GoldPlanRequest, IndustryType,
    OpenAdvertisingShowRequest, OperationPayScene, OperationType,
    SetAdvertisingIndustryFilterRequest,
};

impl Client {
    pub(super) async fn gold_plan<R: GoldPlanRequest>(&self, request: &R) -> Result<Response> {
        request.validate()?;
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))?;
        let endpoint = R::ENDPOINT;
        self.execute(Outgoing {
            method: endpoint.method.to_owned(),
            canonical_url: endpoint.path.to_owned(),
            signed_body: &body,
            wire_body: &body,
            content_type: Some("application/json"),
            wechatpay_serial: None,
            // All five Gold Plan operations are idempotent state setters (spec §7.4).
            idempotent: true,
            verify: true,
        })
        .await
    }

    /// 点金计划管理: opens or closes Gold Plan for a special merchant. Without a scene the
    /// server applies JSAPI only.
    pub async fn change_gold_plan_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
        operation_pay_scene: Option<OperationPayScene>,
    ) -> Result<Reply<ChangeGoldPlanStatusResponse>> {
        let response = self
            .gold_plan(&ChangeGoldPlanStatusRequest {
                sub_mchid: sub_mchid.to_owned(),
                operation_type,
                operation_pay_scene,
            })
            .await?;
        reply(&response)
    }

    /// 商家小票管理: turns the merchant receipt on or off for a special merchant.
    pub async fn change_custom_page_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
    ) -> Result<Reply<ChangeCustomPageStatusResponse>> {
        let response = self
            .gold_plan(&ChangeCustomPageStatusRequest {
                sub_mchid: sub_mchid.to_owned(),
                operation_type,
            })
            .await?;
        reply(&response)
    }

    /// 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
    pub async fn set_advertising_industry_filter(
        &self,
        sub_mchid: &str,
        filters: Vec<IndustryType>,
    ) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&SetAdvertisingIndustryFilterRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(empty_reply(&response))
    }

    /// 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
    pub async fn open_advertising_show(
        &self,
        sub_mchid: &str,
        filters: Option<Vec<IndustryType>>,
    ) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&OpenAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(empty_reply(&response))
    }

    /// 关闭广告展示: turns ad display off.
    pub async fn close_advertising_show(&self, sub_mchid: &str) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&CloseAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
            })
            .await?;
        Ok(empty_reply(&response))
    }
}
