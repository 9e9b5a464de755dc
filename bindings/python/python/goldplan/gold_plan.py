"""The Gold Plan (点金计划) enumerations as ``str`` enums.

Members are ``str`` subclasses, so they compare equal to, and can be used wherever the API takes,
the wire strings; plain strings are accepted too, and a value this version does not know is
sent as given (WeChat Pay may add values before this package knows them). The members are the
core's (``goldplan._goldplan.OPERATION_TYPES`` and friends); the test suite checks they match.
"""

from __future__ import annotations

import enum

__all__ = ["OperationType", "OperationPayScene", "IndustryType"]


class _WireEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` is the wire value."""

    def __str__(self) -> str:
        return str(self.value)


class OperationType(_WireEnum):
    """``operation_type``: open or close."""

    OPEN = "OPEN"  #: 开通
    CLOSE = "CLOSE"  #: 关闭


class OperationPayScene(_WireEnum):
    """``operation_pay_scene``: the payment scenes Gold Plan applies to (server default:
    JSAPI only)."""

    JSAPI_AND_MINIPROGRAM = "JSAPI_AND_MINIPROGRAM"  #: JSAPI and Mini Program
    JSAPI = "JSAPI"  #: official-account H5 payments only
    MINIPROGRAM = "MINIPROGRAM"  #: Mini Program payments only


class IndustryType(_WireEnum):
    """``advertising_industry_filters`` values (同业过滤标签). ``POTOGRAPHY``, ``BUSSINESS``
    and ``INDUSTY`` are the real, misspelt wire values."""

    E_COMMERCE = "E_COMMERCE"  #: 综合电商平台
    LOVE_MARRIAGE = "LOVE_MARRIAGE"  #: 婚恋
    POTOGRAPHY = "POTOGRAPHY"  #: 摄影摄像机构及服务 (wire value misspelt `POTOGRAPHY`)
    EDUCATION = "EDUCATION"  #: 教育
    FINANCE = "FINANCE"  #: 金融
    TOURISM = "TOURISM"  #: 旅游
    SKINCARE = "SKINCARE"  #: 护肤彩妆
    FOOD = "FOOD"  #: 食品
    SPORT = "SPORT"  #: 运动户外
    JEWELRY_WATCH = "JEWELRY_WATCH"  #: 珠宝钟表
    HEALTHCARE = "HEALTHCARE"  #: 医疗健康
    BUSSINESS = "BUSSINESS"  #: 商务服务 (wire value misspelt `BUSSINESS`)
    PARENTING = "PARENTING"  #: 亲子
    CATERING = "CATERING"  #: 餐饮美食
    RETAIL = "RETAIL"  #: 零售百货
    SERVICES = "SERVICES"  #: 生活服务
    LAW = "LAW"  #: 法律服务
    ESTATE = "ESTATE"  #: 房地产
    TRANSPORTATION = "TRANSPORTATION"  #: 交通运输
    ENERGY_SAVING = "ENERGY_SAVING"  #: 节能环保
    SECURITY = "SECURITY"  #: 安全安保
    BUILDING_MATERIAL = "BUILDING_MATERIAL"  #: 家居装修建材
    COMMUNICATION = "COMMUNICATION"  #: 通讯及IT服务
    MERCHANDISE = "MERCHANDISE"  #: 日用百货
    ASSOCIATION = "ASSOCIATION"  #: 机构协会
    COMMUNITY = "COMMUNITY"  #: 网络资讯及社区
    ONLINE_AVR = "ONLINE_AVR"  #: 在线视听与阅读
    WE_MEDIA = "WE_MEDIA"  #: 自媒体
    CAR = "CAR"  #: 汽车
    SOFTWARE = "SOFTWARE"  #: 软件工具
    GAME = "GAME"  #: 游戏
    CLOTHING = "CLOTHING"  #: 服饰鞋帽箱包
    INDUSTY = "INDUSTY"  #: 工业工程 (wire value misspelt `INDUSTY`)
    AGRICULTURE = "AGRICULTURE"  #: 农林牧渔
    PUBLISHING_MEDIA = "PUBLISHING_MEDIA"  #: 出版传媒
    HOME_DIGITAL = "HOME_DIGITAL"  #: 数码家电
