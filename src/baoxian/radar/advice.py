"""防灾建议 (prevention advice) for typhoon warnings and (``RAIN_…``) rainstorm and flood
warnings: what to do at each warning level, what to do for each kind of site (the occupancy
codes of ``catalog/property-all-risks.yaml``), and the Beaufort force of a wind — pure data,
Chinese first, English beside it.

>>> beaufort_force(np.array([10.7, 10.8, 32.7, 61.3])).tolist()
[5, 6, 12, 18]
>>> occupancy_advice("warehouse")[0]
'仓库请加固门窗和屋面，货物垫高离地并远离低洼处，检查排水沟和沙袋'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from baoxian.radar.loss import WarningLevel

Words = tuple[str, str]

BEAUFORT_LOWER_MS: tuple[float, ...] = (
    0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7, 37.0, 41.5, 46.2, 51.0,
    56.1, 61.3,
)  # fmt: skip
"""Lower bounds (m/s) of Beaufort forces 1–18, GB/T 28591-2012 《风力等级》."""

LEVEL_ACTIONS: Mapping[WarningLevel, Words] = {
    WarningLevel.BLUE: (
        "请关注台风动态，做好防风准备",
        "follow the storm's progress and get ready for strong wind",
    ),
    WarningLevel.YELLOW: (
        "请尽快落实防风措施，减少户外活动",
        "put your wind precautions in place now and limit outdoor activity",
    ),
    WarningLevel.ORANGE: (
        "请停止户外和高空作业，做好停工停业准备",
        "stop outdoor work and work at height, and prepare to close",
    ),
    WarningLevel.RED: (
        "请停工停业，人员转移到安全场所，不要外出",
        "close, move everyone to a safe place and stay indoors",
    ),
}

OCCUPANCY_ADVICE: Mapping[str, Words] = {
    "office": (
        "办公楼请关好门窗、清理阳台和屋顶杂物，重要资料和电脑设备移至高处并备份数据",
        "offices: close and secure windows, clear balconies and roofs, move records and "
        "computers off the floor and back up data",
    ),
    "retail": (
        "门店请收起户外招牌、遮阳篷和货架，加固橱窗玻璃，贵重商品和现金转移到安全处",
        "shops: take in outdoor signs, awnings and racks, protect shop windows, move valuable "
        "stock and cash to safety",
    ),
    "warehouse": (
        "仓库请加固门窗和屋面，货物垫高离地并远离低洼处，检查排水沟和沙袋",
        "warehouses: secure doors and roofs, raise goods off the floor and away from low "
        "ground, check drains and sandbags",
    ),
    "light_manufacturing": (
        "厂房请加固门窗和彩钢屋面，设备和原料垫高防水，检查排水和备用电源",
        "factories: secure doors, windows and metal roof sheets, raise machines and materials "
        "off the floor, check drainage and backup power",
    ),
    "heavy_manufacturing": (
        "重工厂区请停止高空作业，加固塔吊、脚手架和堆场，危险品妥善存放，落实安全停产措施",
        "heavy industry: stop work at height, secure cranes, scaffolding and yards, store "
        "hazardous materials safely and prepare a safe shutdown",
    ),
}
GENERAL_ADVICE: Words = (
    "请关好门窗、加固户外设施，财产移至高处",
    "close and secure windows and doors, tie down outdoor equipment and move property up",
)


RAIN_LEVEL_ACTIONS: Mapping[WarningLevel, Words] = {
    WarningLevel.BLUE: (
        "请关注雨情水情，做好防雨防涝准备",
        "follow the rain and river forecasts and get ready for heavy rain",
    ),
    WarningLevel.YELLOW: (
        "请检查排水设施，低洼处和地下空间做好防涝准备",
        "check your drains and get low-lying and underground spaces ready for flooding",
    ),
    WarningLevel.ORANGE: (
        "请暂停户外作业，低洼和地下场所的人员和财产做好转移准备",
        "stop outdoor work and prepare to move people and property out of low-lying and "
        "underground spaces",
    ),
    WarningLevel.RED: (
        "请停工停业，人员转移到安全地带，切勿涉水通行",
        "close, move everyone to safe ground and do not walk or drive through water",
    ),
}
"""What to do at each level of a rainstorm or flood warning (暴雨、洪水预警)."""

RAIN_OCCUPANCY_ADVICE: Mapping[str, Words] = {
    "office": (
        "办公楼请将地下室和一楼的资料、电脑设备移至高处，地下车库车辆及时移出，门口备好沙袋",
        "offices: move records and computers out of basements and off the ground floor, move "
        "cars out of underground car parks and keep sandbags at the doors",
    ),
    "retail": (
        "门店请将商品和收银设备垫高离地，门口堆放沙袋或挡水板，积水前切断低处电源",
        "shops: raise stock and tills off the floor, put sandbags or flood boards at the doors "
        "and switch off low sockets before water comes in",
    ),
    "warehouse": (
        "仓库请将货物垫高离地（至少 30 厘米）并移出低洼处，门口堆放沙袋，疏通排水沟",
        "warehouses: raise goods at least 30 cm off the floor and out of low ground, put "
        "sandbags at the doors and clear the drains",
    ),
    "light_manufacturing": (
        "厂房请将设备和原料垫高防水，疏通排水沟并备好抽水泵，地下配电室断电",
        "factories: raise machines and materials above flood level, clear drains, have pumps "
        "ready and switch off power in basement switch rooms",
    ),
    "heavy_manufacturing": (
        "重工厂区请加固围堰和堆场，危险品移至高处防止遇水泄漏，地下设施断电，落实安全停产",
        "heavy industry: secure bunds and yards, move hazardous materials up so water cannot "
        "reach them, switch off underground installations and prepare a safe shutdown",
    ),
}
RAIN_GENERAL_ADVICE: Words = (
    "请将财产移至高处，门口备好沙袋，疏通排水，地下室断电",
    "move property up, keep sandbags at the doors, clear the drains and switch off power in "
    "basements",
)


def beaufort_force(wind_ms: NDArray[np.float64]) -> NDArray[np.int64]:
    """Beaufort force (0–18) of each sustained wind."""
    edges = np.array(BEAUFORT_LOWER_MS)
    return np.searchsorted(edges, wind_ms, side="right").astype(np.int64)


def level_action(level: WarningLevel) -> Words:
    """What to do at a warning level (blue or above)."""
    return LEVEL_ACTIONS[level]


def occupancy_advice(occupancy: str) -> Words:
    """Advice for a kind of site; a kind without its own words gets the general advice."""
    return OCCUPANCY_ADVICE.get(occupancy, GENERAL_ADVICE)


def rain_level_action(level: WarningLevel) -> Words:
    """What to do at a rainstorm or flood warning level (blue or above)."""
    return RAIN_LEVEL_ACTIONS[level]


def rain_occupancy_advice(occupancy: str) -> Words:
    """Rain and flood advice for a kind of site; others get the general advice.

    >>> rain_occupancy_advice("warehouse")[0][:14]
    '仓库请将货物垫高离地（至少 '
    """
    return RAIN_OCCUPANCY_ADVICE.get(occupancy, RAIN_GENERAL_ADVICE)


__all__ = [
    "BEAUFORT_LOWER_MS",
    "GENERAL_ADVICE",
    "LEVEL_ACTIONS",
    "OCCUPANCY_ADVICE",
    "RAIN_GENERAL_ADVICE",
    "RAIN_LEVEL_ACTIONS",
    "RAIN_OCCUPANCY_ADVICE",
    "beaufort_force",
    "level_action",
    "occupancy_advice",
    "rain_level_action",
    "rain_occupancy_advice",
]
