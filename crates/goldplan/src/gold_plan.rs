//! The Gold Plan (点金计划) service-provider API (spec §8), the first service under the
//! [`ApiCall`] contract: endpoints, the forward-compatible enums with every documented value,
//! request/response bodies and client-side validation. Transport-free: the client sends these
//! bodies, the sandbox receives them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::service::NoContent;
pub use crate::service::{ApiCall, Endpoint};

/// The former name of [`ApiCall`], the contract every Gold Plan request implements.
pub use crate::service::ApiCall as GoldPlanRequest;

/// 点金计划管理: `POST /v3/goldplan/merchants/changegoldplanstatus` → 200 `{sub_mchid}`.
pub const CHANGE_GOLD_PLAN_STATUS: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/goldplan/merchants/changegoldplanstatus",
};
/// 商家小票管理: `POST /v3/goldplan/merchants/changecustompagestatus` → 200 `{sub_mchid}`.
pub const CHANGE_CUSTOM_PAGE_STATUS: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/goldplan/merchants/changecustompagestatus",
};
/// 同业过滤标签管理: `POST /v3/goldplan/merchants/set-advertising-industry-filter` → 204.
pub const SET_ADVERTISING_INDUSTRY_FILTER: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/goldplan/merchants/set-advertising-industry-filter",
};
/// 开通广告展示: **`PATCH`** `/v3/goldplan/merchants/open-advertising-show` → 204.
pub const OPEN_ADVERTISING_SHOW: Endpoint = Endpoint {
    method: "PATCH",
    path: "/v3/goldplan/merchants/open-advertising-show",
};
/// 关闭广告展示: `POST /v3/goldplan/merchants/close-advertising-show` → 204.
pub const CLOSE_ADVERTISING_SHOW: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/goldplan/merchants/close-advertising-show",
};

/// Most industry tags the filter and open-ad-show accept.
pub const MAX_INDUSTRY_FILTERS: usize = 3;

/// Longest `sub_mchid`.
pub const MAX_SUB_MCHID_LEN: usize = 32;

wire_enum! {
    /// `operation_type`: open or close.
    OperationType {
        /// 开通.
        Open = "OPEN",
        /// 关闭.
        Close = "CLOSE",
    }
}

wire_enum! {
    /// `operation_pay_scene`: which payment scenes Gold Plan applies to. When omitted, the
    /// official documentation (2024.11.18) says JSAPI only.
    OperationPayScene {
        /// JSAPI and Mini Program payments.
        JsapiAndMiniprogram = "JSAPI_AND_MINIPROGRAM",
        /// JSAPI (official-account H5) payments only.
        Jsapi = "JSAPI",
        /// Mini Program payments only.
        Miniprogram = "MINIPROGRAM",
    }
}

wire_enum! {
    /// `advertising_industry_filters` values (同业过滤标签). `POTOGRAPHY`, `BUSSINESS` and
    /// `INDUSTY` are the real, misspelt wire values.
    IndustryType {
        /// 综合电商平台.
        ECommerce = "E_COMMERCE",
        /// 婚恋.
        LoveMarriage = "LOVE_MARRIAGE",
        /// 摄影摄像机构及服务 (wire value misspelt `POTOGRAPHY`).
        Potography = "POTOGRAPHY",
        /// 教育.
        Education = "EDUCATION",
        /// 金融.
        Finance = "FINANCE",
        /// 旅游.
        Tourism = "TOURISM",
        /// 护肤彩妆.
        Skincare = "SKINCARE",
        /// 食品.
        Food = "FOOD",
        /// 运动户外.
        Sport = "SPORT",
        /// 珠宝钟表.
        JewelryWatch = "JEWELRY_WATCH",
        /// 医疗健康.
        Healthcare = "HEALTHCARE",
        /// 商务服务 (wire value misspelt `BUSSINESS`).
        Bussiness = "BUSSINESS",
        /// 亲子.
        Parenting = "PARENTING",
        /// 餐饮美食.
        Catering = "CATERING",
        /// 零售百货.
        Retail = "RETAIL",
        /// 生活服务.
        Services = "SERVICES",
        /// 法律服务.
        Law = "LAW",
        /// 房地产.
        Estate = "ESTATE",
        /// 交通运输.
        Transportation = "TRANSPORTATION",
        /// 节能环保.
        EnergySaving = "ENERGY_SAVING",
        /// 安全安保.
        Security = "SECURITY",
        /// 家居装修建材.
        BuildingMaterial = "BUILDING_MATERIAL",
        /// 通讯及IT服务.
        Communication = "COMMUNICATION",
        /// 日用百货.
        Merchandise = "MERCHANDISE",
        /// 机构协会.
        Association = "ASSOCIATION",
        /// 网络资讯及社区.
        Community = "COMMUNITY",
        /// 在线视听与阅读.
        OnlineAvr = "ONLINE_AVR",
        /// 自媒体.
        WeMedia = "WE_MEDIA",
        /// 汽车.
        Car = "CAR",
        /// 软件工具.
        Software = "SOFTWARE",
        /// 游戏.
        Game = "GAME",
        /// 服饰鞋帽箱包.
        Clothing = "CLOTHING",
        /// 工业工程 (wire value misspelt `INDUSTY`).
        Industy = "INDUSTY",
        /// 农林牧渔.
        Agriculture = "AGRICULTURE",
        /// 出版传媒.
        PublishingMedia = "PUBLISHING_MEDIA",
        /// 数码家电.
        HomeDigital = "HOME_DIGITAL",
    }
}

fn ensure_known_filters(filters: &[IndustryType]) -> Result<()> {
    filters
        .iter()
        .try_for_each(|f| f.ensure_known("advertising_industry_filters"))
}

/// Checks `sub_mchid`: 1 to 32 characters.
pub fn validate_sub_mchid(sub_mchid: &str) -> Result<()> {
    let n = sub_mchid.chars().count();
    if n == 0 || n > MAX_SUB_MCHID_LEN {
        return Err(Error::InvalidInput(format!(
            "sub_mchid must be 1 to {MAX_SUB_MCHID_LEN} characters, got {n}"
        )));
    }
    Ok(())
}

fn validate_filters(filters: &[IndustryType], min: usize) -> Result<()> {
    if filters.len() < min || filters.len() > MAX_INDUSTRY_FILTERS {
        return Err(Error::InvalidInput(format!(
            "advertising_industry_filters must hold {min} to {MAX_INDUSTRY_FILTERS} industry \
             tags, got {}",
            filters.len()
        )));
    }
    Ok(())
}

fn is_none_or_empty(filters: &Option<Vec<IndustryType>>) -> bool {
    filters.as_ref().is_none_or(Vec::is_empty)
}

/// Body of 点金计划管理 (change Gold Plan status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeGoldPlanStatusRequest {
    /// Special merchant id.
    pub sub_mchid: String,
    /// OPEN or CLOSE.
    pub operation_type: OperationType,
    /// The payment scenes it applies to (WeChat Pay's default: JSAPI). Absent is left out of
    /// the body, never sent as `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_pay_scene: Option<OperationPayScene>,
}

/// Body of 商家小票管理 (change custom page, i.e. merchant receipt, status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeCustomPageStatusRequest {
    /// Special merchant id.
    pub sub_mchid: String,
    /// OPEN enables the merchant receipt, CLOSE disables it.
    pub operation_type: OperationType,
}

/// Body of 同业过滤标签管理 (set advertising industry filter); replaces the previous filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAdvertisingIndustryFilterRequest {
    /// Special merchant id.
    pub sub_mchid: String,
    /// 1 to 3 industry tags.
    pub advertising_industry_filters: Vec<IndustryType>,
}

/// Body of 开通广告展示 (open advertising show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAdvertisingShowRequest {
    /// Special merchant id.
    pub sub_mchid: String,
    /// At most 3 industry tags; absent or empty, the key is left out of the body.
    #[serde(default, skip_serializing_if = "is_none_or_empty")]
    pub advertising_industry_filters: Option<Vec<IndustryType>>,
}

/// Body of 关闭广告展示 (close advertising show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseAdvertisingShowRequest {
    /// Special merchant id.
    pub sub_mchid: String,
}

/// Response of change Gold Plan status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeGoldPlanStatusResponse {
    /// The special merchant id.
    pub sub_mchid: String,
}

/// Response of change custom page status (`operation_type` appears in older documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeCustomPageStatusResponse {
    /// The special merchant id.
    pub sub_mchid: String,
    /// The operation, when WeChat echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<OperationType>,
}

impl ApiCall for ChangeGoldPlanStatusRequest {
    const NAME: &'static str = "change_gold_plan_status";
    const SERVICE: &'static str = "gold_plan";
    const DOC: &'static str = "点金计划管理: opens or closes Gold Plan for a special merchant (without a scene, JSAPI only).";
    const ENDPOINT: Endpoint = CHANGE_GOLD_PLAN_STATUS;
    // Every Gold Plan operation sets a state: sending it twice sets it once (spec §7.4).
    const IDEMPOTENT: bool = true;
    type Reply = ChangeGoldPlanStatusResponse;
    fn validate(&self) -> Result<()> {
        validate_sub_mchid(&self.sub_mchid)?;
        self.operation_type.ensure_known("operation_type")?;
        match &self.operation_pay_scene {
            Some(scene) => scene.ensure_known("operation_pay_scene"),
            None => Ok(()),
        }
    }
}

impl ApiCall for ChangeCustomPageStatusRequest {
    const NAME: &'static str = "change_custom_page_status";
    const SERVICE: &'static str = "gold_plan";
    const DOC: &'static str =
        "商家小票管理: turns the merchant receipt on or off for a special merchant.";
    const ENDPOINT: Endpoint = CHANGE_CUSTOM_PAGE_STATUS;
    const IDEMPOTENT: bool = true;
    type Reply = ChangeCustomPageStatusResponse;
    fn validate(&self) -> Result<()> {
        validate_sub_mchid(&self.sub_mchid)?;
        self.operation_type.ensure_known("operation_type")
    }
}

impl ApiCall for SetAdvertisingIndustryFilterRequest {
    const NAME: &'static str = "set_advertising_industry_filter";
    const SERVICE: &'static str = "gold_plan";
    const DOC: &'static str = "同业过滤标签管理: replaces the industry filter (1 to 3 tags).";
    const ENDPOINT: Endpoint = SET_ADVERTISING_INDUSTRY_FILTER;
    const IDEMPOTENT: bool = true;
    type Reply = NoContent;
    fn validate(&self) -> Result<()> {
        validate_sub_mchid(&self.sub_mchid)?;
        validate_filters(&self.advertising_industry_filters, 1)?;
        ensure_known_filters(&self.advertising_industry_filters)
    }
}

impl ApiCall for OpenAdvertisingShowRequest {
    const NAME: &'static str = "open_advertising_show";
    const SERVICE: &'static str = "gold_plan";
    const DOC: &'static str =
        "开通广告展示: turns ad display on, optionally with up to 3 industry filters.";
    const ENDPOINT: Endpoint = OPEN_ADVERTISING_SHOW;
    const IDEMPOTENT: bool = true;
    type Reply = NoContent;
    fn validate(&self) -> Result<()> {
        validate_sub_mchid(&self.sub_mchid)?;
        let filters = self.advertising_industry_filters.as_deref().unwrap_or(&[]);
        validate_filters(filters, 0)?;
        ensure_known_filters(filters)
    }
}

impl ApiCall for CloseAdvertisingShowRequest {
    const NAME: &'static str = "close_advertising_show";
    const SERVICE: &'static str = "gold_plan";
    const DOC: &'static str = "关闭广告展示: turns ad display off.";
    const ENDPOINT: Endpoint = CLOSE_ADVERTISING_SHOW;
    const IDEMPOTENT: bool = true;
    type Reply = NoContent;
    fn validate(&self) -> Result<()> {
        validate_sub_mchid(&self.sub_mchid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_six_industries_with_the_real_misspellings() {
        assert_eq!(IndustryType::ALL.len(), 36);
        assert_eq!(
            IndustryType::parse_known("filters", "software").unwrap(),
            IndustryType::Software
        );
        let e = IndustryType::parse_known("filters", "SOFTWAREZ").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("POTOGRAPHY"), "{e}");
        let e = OperationType::parse_known("operation_type", "MAYBE").unwrap_err();
        assert!(e.to_string().contains("OPEN, CLOSE"), "{e}");
        let wire: Vec<&str> = IndustryType::ALL.iter().map(|i| i.as_str()).collect();
        for misspelt in ["POTOGRAPHY", "BUSSINESS", "INDUSTY"] {
            assert!(wire.contains(&misspelt));
        }
        assert!(!wire.contains(&"PHOTOGRAPHY"));
        let mut dedup = wire.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), 36);
    }

    #[test]
    fn unknown_values_round_trip_verbatim() {
        let v: IndustryType = serde_json::from_str("\"SPACE_TRAVEL\"").unwrap();
        assert_eq!(v, IndustryType::Unknown("SPACE_TRAVEL".into()));
        assert!(!v.is_known());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"SPACE_TRAVEL\"");
        for known in IndustryType::ALL {
            let json = serde_json::to_string(known).unwrap();
            assert_eq!(&serde_json::from_str::<IndustryType>(&json).unwrap(), known);
        }
    }

    #[test]
    fn bodies_match_the_spec_vectors_and_omit_absent_optionals() {
        let r1 = ChangeGoldPlanStatusRequest {
            sub_mchid: "1900000109".into(),
            operation_type: OperationType::Open,
            operation_pay_scene: Some(OperationPayScene::Jsapi),
        };
        assert_eq!(
            serde_json::to_string(&r1).unwrap(),
            r#"{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}"#
        );
        let no_scene = ChangeGoldPlanStatusRequest {
            operation_pay_scene: None,
            ..r1
        };
        assert!(
            !serde_json::to_string(&no_scene)
                .unwrap()
                .contains("operation_pay_scene")
        );
        let r2 = OpenAdvertisingShowRequest {
            sub_mchid: "1900000109".into(),
            advertising_industry_filters: Some(vec![
                IndustryType::Software,
                IndustryType::Security,
                IndustryType::LoveMarriage,
            ]),
        };
        assert_eq!(
            serde_json::to_string(&r2).unwrap(),
            r#"{"sub_mchid":"1900000109","advertising_industry_filters":["SOFTWARE","SECURITY","LOVE_MARRIAGE"]}"#
        );
        for filters in [None, Some(vec![])] {
            let open = OpenAdvertisingShowRequest {
                sub_mchid: "1".into(),
                advertising_industry_filters: filters,
            };
            assert_eq!(
                serde_json::to_string(&open).unwrap(),
                r#"{"sub_mchid":"1"}"#
            );
            open.validate().unwrap();
        }
    }

    #[test]
    fn validation_limits() {
        let filter = |n: usize| SetAdvertisingIndustryFilterRequest {
            sub_mchid: "1900000109".into(),
            advertising_industry_filters: vec![IndustryType::Food; n],
        };
        assert!(filter(0).validate().is_err());
        assert!(filter(1).validate().is_ok());
        assert!(filter(3).validate().is_ok());
        assert!(filter(4).validate().is_err());
        let open = OpenAdvertisingShowRequest {
            sub_mchid: "1".into(),
            advertising_industry_filters: Some(vec![IndustryType::Food; 4]),
        };
        assert_eq!(
            open.validate().unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
        assert!(validate_sub_mchid("").is_err());
        assert!(validate_sub_mchid(&"1".repeat(32)).is_ok());
        assert!(validate_sub_mchid(&"1".repeat(33)).is_err());
    }
}
