"""Synthetic Chinese customers and risks (演示人口) for demo books, tests and benchmarks.

Everything is deterministic: the same seed and arguments give the same sequence, on any
machine, because each call draws from its own ``random.Random(seed)``.

Identity numbers are valid, not real: a 身份证号 carries an address code that python-stdnum
accepts for the holder's birth year, a correct check digit and a sequence digit whose parity
matches the gender; a 统一社会信用代码 carries the city's region code and passes GB 32100 (and
its embedded organisation code passes GB 11714); a VIN carries a correct ISO 3779 check digit.

Address codes and birth years.  python-stdnum checks that the address code existed in the year
of birth, and most urban district codes only date from the 1983 revision of GB/T 2260.  A person
born before their district's code existed therefore carries a code the city used at the time
(``[-1983]市区``, 市辖区, a former district such as 崇文区, or, for Hainan before 1988, a
Guangdong code), exactly as many real older residents do.  ``FakePerson.district`` is always the
current district of residence used in the address.

>>> from datetime import date
>>> from baoxian.shared.identity import birth_date_from_id, is_valid_resident_id
>>> people = list(generate_people(2024, 3, as_of=date(2025, 6, 30)))
>>> people == list(generate_people(2024, 3, as_of=date(2025, 6, 30)))
True
>>> all(is_valid_resident_id(p.id_number) for p in people)
True
>>> all(birth_date_from_id(p.id_number) == p.birth_date for p in people)
True
>>> [p.district in p.address and p.address.endswith(("号", "室")) for p in people]
[True, True, True]
>>> org = next(generate_organisations(1, 1))
>>> org.credit_code[2:8] == org.city.region_code
True
>>> shenzhen = city_by_code("440300")
>>> car = next(generate_vehicles(5, 1, city=shenzhen, as_of=date(2025, 6, 30)))
>>> car.plate.startswith("粤B·")
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache

from baoxian.shared.identity import resident_id_check_digit

__all__ = [
    "CITIES",
    "City",
    "FakeOrganisation",
    "FakePerson",
    "FakeSite",
    "FakeVehicle",
    "city_by_code",
    "generate_organisations",
    "generate_people",
    "generate_sites",
    "generate_vehicles",
]


# ---------------------------------------------------------------------------------------------
# Cities
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city (or municipality) with a few real districts."""

    province: str
    city: str
    city_en: str
    region_code: str
    districts: tuple[tuple[str, str], ...]
    latitude: float
    longitude: float
    coastal: bool


@dataclass(frozen=True, slots=True)
class _CityMeta:
    weight: int  # relative share of generated people and organisations (≈ millions of residents)
    plate_province: str
    plate_letters: str  # city letters (发牌机关代号) used on this city's plates
    district_since: tuple[int, ...]  # first birth year each district code is valid for (0: always)
    # Codes the city used before its current district codes existed: (code, first, last year).
    legacy: tuple[tuple[str, int, int], ...]


_ALWAYS = 0
_FOREVER = 9999

# (province, city, city_en, region_code, latitude, longitude, coastal, weight, plate province,
#  plate letters, ((district code, district name, valid since birth year), ...), legacy codes)
# Codes and year ranges follow GB/T 2260 as recorded by python-stdnum's cn/loc.dat.
_CityRow = tuple[
    str,
    str,
    str,
    str,
    float,
    float,
    bool,
    int,
    str,
    str,
    tuple[tuple[str, str, int], ...],
    tuple[tuple[str, int, int], ...],
]

_CITY_ROWS: tuple[_CityRow, ...] = (
    # --- municipalities ---
    ("北京市", "北京市", "Beijing", "110000", 39.9042, 116.4074, False, 22, "京", "ACEFGHJKLMNPQ",
     (("110101", "东城区", 0), ("110102", "西城区", 0), ("110105", "朝阳区", 0),
      ("110106", "丰台区", 0), ("110107", "石景山区", 0), ("110108", "海淀区", 0)),
     (("110103", 0, 2010), ("110104", 0, 2010))),
    ("上海市", "上海市", "Shanghai", "310000", 31.2304, 121.4737, True, 25, "沪", "ABDEFGHJKLMN",
     (("310101", "黄浦区", 0), ("310104", "徐汇区", 0), ("310105", "长宁区", 0),
      ("310106", "静安区", 0), ("310110", "杨浦区", 0), ("310115", "浦东新区", 1992)),
     (("310102", 0, 2000), ("310103", 0, 2011), ("310108", 0, 2015))),
    ("天津市", "天津市", "Tianjin", "120000", 39.1252, 117.1904, True, 11, "津", "ABCDFGHJKLMN",
     (("120101", "和平区", 0), ("120102", "河东区", 0), ("120103", "河西区", 0),
      ("120104", "南开区", 0), ("120116", "滨海新区", 2009)),
     (("120107", 0, 2009),)),
    ("重庆市", "重庆市", "Chongqing", "500000", 29.5630, 106.5516, False, 12, "渝", "ABD",
     (("500103", "渝中区", 1997), ("500106", "沙坪坝区", 1997), ("500107", "九龙坡区", 1997),
      ("500108", "南岸区", 1997)),
     (("510220", 0, 1983), ("510202", 1983, 1997), ("510212", 1983, 1997),
      ("510213", 1983, 1997), ("510214", 1983, 1997))),
    # --- Guangdong ---
    ("广东省", "广州市", "Guangzhou", "440100", 23.1291, 113.2644, True, 19, "粤", "A",
     (("440103", "荔湾区", 1983), ("440104", "越秀区", 1983), ("440105", "海珠区", 1983),
      ("440106", "天河区", 1985), ("440111", "白云区", 1983), ("440113", "番禺区", 2000)),
     (("440120", 0, 1983), ("440101", 1983, _FOREVER))),
    ("广东省", "深圳市", "Shenzhen", "440300", 22.5431, 114.0579, True, 18, "粤", "B",
     (("440303", "罗湖区", 1983), ("440304", "福田区", 1983), ("440305", "南山区", 1983),
      ("440306", "宝安区", 1992), ("440307", "龙岗区", 1992)),
     (("440320", 0, 1983), ("440301", 1983, _FOREVER))),
    ("广东省", "珠海市", "Zhuhai", "440400", 22.2710, 113.5767, True, 2, "粤", "C",
     (("440402", "香洲区", 1984), ("440403", "斗门区", 2001), ("440404", "金湾区", 2001)),
     (("440400", 0, 1983), ("440401", 1984, _FOREVER))),
    ("广东省", "汕头市", "Shantou", "440500", 23.3541, 116.6820, True, 5, "粤", "D",
     (("440507", "龙湖区", 1991), ("440511", "金平区", 2003), ("440512", "濠江区", 2003),
      ("440513", "潮阳区", 2003), ("440515", "澄海区", 2003)),
     (("442301", 0, 1983), ("440501", 1983, _FOREVER))),
    ("广东省", "佛山市", "Foshan", "440600", 23.0215, 113.1214, False, 9, "粤", "EXY",
     (("440604", "禅城区", 2002), ("440605", "南海区", 2002), ("440606", "顺德区", 2002),
      ("440607", "三水区", 2002)),
     (("442701", 0, 1983), ("440601", 1984, _FOREVER))),
    ("广东省", "湛江市", "Zhanjiang", "440800", 21.2707, 110.3594, True, 7, "粤", "G",
     (("440802", "赤坎区", 1984), ("440803", "霞山区", 1984), ("440804", "坡头区", 1984),
      ("440811", "麻章区", 1984)),
     (("442901", 0, 1983), ("440801", 1984, _FOREVER))),
    # --- Zhejiang ---
    ("浙江省", "杭州市", "Hangzhou", "330100", 30.2741, 120.1551, False, 12, "浙", "A",
     (("330102", "上城区", 1983), ("330105", "拱墅区", 1983), ("330106", "西湖区", 1983),
      ("330108", "滨江区", 1996), ("330109", "萧山区", 2001), ("330110", "余杭区", 2001)),
     (("330120", 0, 1983), ("330101", 1983, _FOREVER))),
    ("浙江省", "宁波市", "Ningbo", "330200", 29.8683, 121.5440, True, 9, "浙", "B",
     (("330203", "海曙区", 1983), ("330205", "江北区", 1983), ("330206", "北仑区", 1985),
      ("330211", "镇海区", 1985), ("330212", "鄞州区", 2002)),
     (("330220", 0, 1983), ("330201", 1983, _FOREVER))),
    ("浙江省", "温州市", "Wenzhou", "330300", 27.9938, 120.6994, True, 9, "浙", "C",
     (("330302", "鹿城区", 1983), ("330303", "龙湾区", 1984), ("330304", "瓯海区", 1992),
      ("330305", "洞头区", 2015)),
     (("330320", 0, 1983), ("330301", 1983, _FOREVER))),
    # --- Fujian ---
    ("福建省", "福州市", "Fuzhou", "350100", 26.0745, 119.2965, True, 8, "闽", "A",
     (("350102", "鼓楼区", 1983), ("350103", "台江区", 1983), ("350104", "仓山区", 1983),
      ("350105", "马尾区", 1983), ("350111", "晋安区", 1983)),
     (("350120", 0, 1983), ("350101", 1983, _FOREVER))),
    ("福建省", "厦门市", "Xiamen", "350200", 24.4798, 118.0894, True, 5, "闽", "D",
     (("350203", "思明区", 1983), ("350205", "海沧区", 1983), ("350206", "湖里区", 1987),
      ("350211", "集美区", 1983), ("350212", "同安区", 1996)),
     (("350220", 0, 1983), ("350201", 1983, _FOREVER))),
    ("福建省", "泉州市", "Quanzhou", "350500", 24.8741, 118.6757, True, 8, "闽", "C",
     (("350502", "鲤城区", 1985), ("350503", "丰泽区", 1997), ("350504", "洛江区", 1997),
      ("350505", "泉港区", 2000)),
     (("352401", 0, 1985), ("350501", 1985, _FOREVER))),
    # --- Hainan (part of Guangdong until 1988) ---
    ("海南省", "海口市", "Haikou", "460100", 20.0440, 110.1999, True, 3, "琼", "A",
     (("460105", "秀英区", 2002), ("460106", "龙华区", 2002), ("460107", "琼山区", 2002),
      ("460108", "美兰区", 2002)),
     (("442101", 0, 1986), ("441000", 1986, 1988), ("460100", 1988, _FOREVER),
      ("460101", 1990, _FOREVER))),
    ("海南省", "三亚市", "Sanya", "460200", 18.2528, 109.5119, True, 1, "琼", "B",
     (("460202", "海棠区", 2014), ("460203", "吉阳区", 2014), ("460204", "天涯区", 2014),
      ("460205", "崖州区", 2014)),
     (("442221", 0, 1984), ("442201", 1984, 1987), ("441100", 1987, 1988),
      ("460200", 1988, _FOREVER))),
    # --- Jiangsu ---
    ("江苏省", "南京市", "Nanjing", "320100", 32.0603, 118.7969, False, 9, "苏", "A",
     (("320102", "玄武区", 1983), ("320104", "秦淮区", 1983), ("320105", "建邺区", 1983),
      ("320106", "鼓楼区", 1983), ("320113", "栖霞区", 1983), ("320115", "江宁区", 2000)),
     (("320120", 0, 1983), ("320101", 1983, _FOREVER))),
    ("江苏省", "苏州市", "Suzhou", "320500", 31.2990, 120.5853, False, 13, "苏", "EU",
     (("320505", "虎丘区", 2000), ("320506", "吴中区", 2000), ("320507", "相城区", 2000),
      ("320508", "姑苏区", 2012), ("320509", "吴江区", 2012)),
     (("320500", 0, 1982), ("320501", 1983, _FOREVER))),
    ("江苏省", "无锡市", "Wuxi", "320200", 31.4912, 120.3119, False, 7, "苏", "B",
     (("320205", "锡山区", 2000), ("320206", "惠山区", 2000), ("320211", "滨湖区", 1983),
      ("320213", "梁溪区", 2015), ("320214", "新吴区", 2015)),
     (("320200", 0, 1982), ("320201", 1983, _FOREVER))),
    ("江苏省", "南通市", "Nantong", "320600", 31.9802, 120.8943, True, 8, "苏", "F",
     (("320612", "通州区", 2009), ("320613", "崇川区", 2020), ("320614", "海门区", 2020)),
     (("320600", 0, 1982), ("320601", 1983, _FOREVER))),
    ("江苏省", "连云港市", "Lianyungang", "320700", 34.5967, 119.2216, True, 5, "苏", "G",
     (("320703", "连云区", 1983), ("320706", "海州区", 1986), ("320707", "赣榆区", 2014)),
     (("320700", 0, 1982), ("320701", 1983, _FOREVER))),
    # --- Shandong ---
    ("山东省", "济南市", "Jinan", "370100", 36.6512, 117.1201, False, 9, "鲁", "A",
     (("370102", "历下区", 1983), ("370103", "市中区", 1983), ("370104", "槐荫区", 1983),
      ("370105", "天桥区", 1983), ("370112", "历城区", 1987)),
     (("370120", 0, 1983), ("370101", 1983, _FOREVER))),
    ("山东省", "青岛市", "Qingdao", "370200", 36.0671, 120.3826, True, 10, "鲁", "BU",
     (("370202", "市南区", 1983), ("370203", "市北区", 1983), ("370211", "黄岛区", 1983),
      ("370212", "崂山区", 1988), ("370213", "李沧区", 1994), ("370214", "城阳区", 1994)),
     (("370220", 0, 1983), ("370201", 1983, _FOREVER))),
    ("山东省", "烟台市", "Yantai", "370600", 37.4638, 121.4479, True, 7, "鲁", "FY",
     (("370602", "芝罘区", 1983), ("370611", "福山区", 1983), ("370612", "牟平区", 1994),
      ("370613", "莱山区", 1994)),
     (("372101", 0, 1983), ("370601", 1983, _FOREVER))),
    # --- Liaoning ---
    ("辽宁省", "沈阳市", "Shenyang", "210100", 41.8057, 123.4315, False, 9, "辽", "A",
     (("210102", "和平区", 1983), ("210103", "沈河区", 1983), ("210104", "大东区", 1983),
      ("210105", "皇姑区", 1983), ("210106", "铁西区", 1983), ("210112", "浑南区", 1983)),
     (("210120", 0, 1983), ("210101", 1983, _FOREVER))),
    ("辽宁省", "大连市", "Dalian", "210200", 38.9140, 121.6147, True, 7, "辽", "B",
     (("210202", "中山区", 1983), ("210203", "西岗区", 1983), ("210204", "沙河口区", 1983),
      ("210211", "甘井子区", 1983), ("210212", "旅顺口区", 1983), ("210213", "金州区", 1987)),
     (("210220", 0, 1983), ("210201", 1983, _FOREVER))),
    # --- Hebei ---
    ("河北省", "石家庄市", "Shijiazhuang", "130100", 38.0428, 114.5149, False, 11, "冀", "A",
     (("130102", "长安区", 1983), ("130104", "桥西区", 1983), ("130105", "新华区", 1983),
      ("130108", "裕华区", 2001)),
     (("130100", 0, 1982), ("130101", 1983, _FOREVER))),
    ("河北省", "唐山市", "Tangshan", "130200", 39.6305, 118.1802, True, 8, "冀", "B",
     (("130202", "路南区", 1983), ("130203", "路北区", 1983), ("130204", "古冶区", 1983),
      ("130205", "开平区", 1983), ("130207", "丰南区", 2002)),
     (("130200", 0, 1982), ("130201", 1983, _FOREVER))),
    ("河北省", "秦皇岛市", "Qinhuangdao", "130300", 39.9354, 119.6005, True, 3, "冀", "C",
     (("130302", "海港区", 1983), ("130303", "山海关区", 1983), ("130304", "北戴河区", 1983)),
     (("132701", 0, 1983), ("130301", 1983, _FOREVER))),
    # --- Guangxi ---
    ("广西壮族自治区", "南宁市", "Nanning", "450100", 22.8170, 108.3665, False, 9, "桂", "A",
     (("450102", "兴宁区", 1983), ("450103", "青秀区", 1983), ("450105", "江南区", 1983),
      ("450107", "西乡塘区", 2004), ("450108", "良庆区", 2004)),
     (("450100", 0, 1982), ("450101", 1983, _FOREVER))),
    ("广西壮族自治区", "北海市", "Beihai", "450500", 21.4811, 109.1202, True, 2, "桂", "E",
     (("450502", "海城区", 1984), ("450503", "银海区", 1994), ("450512", "铁山港区", 1994)),
     (("452801", 0, 1983), ("450501", 1984, _FOREVER))),
    # --- inland provincial capitals ---
    ("四川省", "成都市", "Chengdu", "510100", 30.5728, 104.0668, False, 21, "川", "A",
     (("510104", "锦江区", 1990), ("510105", "青羊区", 1990), ("510106", "金牛区", 1990),
      ("510107", "武侯区", 1990), ("510108", "成华区", 1990), ("510112", "龙泉驿区", 1983)),
     (("510120", 0, 1983), ("510101", 1983, _FOREVER))),
    ("湖北省", "武汉市", "Wuhan", "420100", 30.5928, 114.3055, False, 13, "鄂", "A",
     (("420102", "江岸区", 1983), ("420103", "江汉区", 1983), ("420104", "硚口区", 1983),
      ("420105", "汉阳区", 1983), ("420106", "武昌区", 1983), ("420111", "洪山区", 1983)),
     (("420120", 0, 1983), ("420101", 1983, _FOREVER))),
    ("陕西省", "西安市", "Xi'an", "610100", 34.3416, 108.9398, False, 13, "陕", "AU",
     (("610102", "新城区", 1983), ("610103", "碑林区", 1983), ("610104", "莲湖区", 1983),
      ("610112", "未央区", 1983), ("610113", "雁塔区", 1983), ("610116", "长安区", 2002)),
     (("610120", 0, 1983), ("610101", 1983, _FOREVER))),
    ("湖南省", "长沙市", "Changsha", "430100", 28.2282, 112.9388, False, 10, "湘", "A",
     (("430102", "芙蓉区", 1983), ("430103", "天心区", 1983), ("430104", "岳麓区", 1983),
      ("430105", "开福区", 1983), ("430111", "雨花区", 1983)),
     (("430120", 0, 1983), ("430101", 1983, _FOREVER))),
    ("河南省", "郑州市", "Zhengzhou", "410100", 34.7466, 113.6254, False, 13, "豫", "A",
     (("410102", "中原区", 1983), ("410103", "二七区", 1983), ("410104", "管城回族区", 1983),
      ("410105", "金水区", 1983), ("410108", "惠济区", 1987)),
     (("410120", 0, 1983), ("410101", 1983, _FOREVER))),
    ("安徽省", "合肥市", "Hefei", "340100", 31.8206, 117.2272, False, 9, "皖", "A",
     (("340102", "瑶海区", 1983), ("340103", "庐阳区", 1983), ("340104", "蜀山区", 1983),
      ("340111", "包河区", 1983)),
     (("340120", 0, 1983), ("340101", 1983, _FOREVER))),
    ("江西省", "南昌市", "Nanchang", "360100", 28.6820, 115.8579, False, 6, "赣", "A",
     (("360102", "东湖区", 1983), ("360103", "西湖区", 1983), ("360104", "青云谱区", 1983),
      ("360111", "青山湖区", 1983), ("360113", "红谷滩区", 2019)),
     (("360120", 0, 1983), ("360101", 1983, _FOREVER))),
    ("云南省", "昆明市", "Kunming", "530100", 24.8801, 102.8329, False, 8, "云", "A",
     (("530102", "五华区", 1983), ("530103", "盘龙区", 1983), ("530111", "官渡区", 1983),
      ("530112", "西山区", 1983), ("530114", "呈贡区", 2011)),
     (("530120", 0, 1983), ("530101", 1983, _FOREVER))),
    ("贵州省", "贵阳市", "Guiyang", "520100", 26.6470, 106.6302, False, 6, "贵", "A",
     (("520102", "南明区", 1983), ("520103", "云岩区", 1983), ("520111", "花溪区", 1983),
      ("520112", "乌当区", 1983), ("520115", "观山湖区", 2012)),
     (("520100", 0, 1982), ("520101", 1983, _FOREVER))),
    ("山西省", "太原市", "Taiyuan", "140100", 37.8706, 112.5489, False, 5, "晋", "A",
     (("140105", "小店区", 1997), ("140106", "迎泽区", 1997), ("140107", "杏花岭区", 1997),
      ("140108", "尖草坪区", 1997), ("140109", "万柏林区", 1997)),
     (("140120", 0, 1983), ("140101", 1983, _FOREVER))),
    ("吉林省", "长春市", "Changchun", "220100", 43.8171, 125.3235, False, 9, "吉", "A",
     (("220102", "南关区", 1983), ("220103", "宽城区", 1983), ("220104", "朝阳区", 1983),
      ("220105", "二道区", 1983), ("220106", "绿园区", 1995)),
     (("220120", 0, 1983), ("220101", 1983, _FOREVER))),
    ("黑龙江省", "哈尔滨市", "Harbin", "230100", 45.8038, 126.5349, False, 10, "黑", "A",
     (("230102", "道里区", 1983), ("230103", "南岗区", 1983), ("230104", "道外区", 1983),
      ("230108", "平房区", 1983), ("230109", "松北区", 2004), ("230110", "香坊区", 2006)),
     (("230100", 0, 1982), ("230101", 1983, _FOREVER))),
    ("内蒙古自治区", "呼和浩特市", "Hohhot", "150100", 40.8414, 111.7519, False, 3, "蒙", "A",
     (("150102", "新城区", 1983), ("150103", "回民区", 1983), ("150104", "玉泉区", 1983),
      ("150105", "赛罕区", 1983)),
     (("150120", 0, 1983), ("150101", 1983, _FOREVER))),
    ("甘肃省", "兰州市", "Lanzhou", "620100", 36.0611, 103.8343, False, 4, "甘", "A",
     (("620102", "城关区", 1983), ("620103", "七里河区", 1983), ("620104", "西固区", 1983),
      ("620105", "安宁区", 1983)),
     (("620120", 0, 1983), ("620101", 1983, _FOREVER))),
    ("新疆维吾尔自治区", "乌鲁木齐市", "Urumqi", "650100", 43.8256, 87.6168, False, 4, "新", "A",
     (("650102", "天山区", 1983), ("650103", "沙依巴克区", 1983), ("650104", "新市区", 1983),
      ("650105", "水磨沟区", 1983), ("650109", "米东区", 2007)),
     (("650120", 0, 1983), ("650101", 1983, _FOREVER))),
    ("宁夏回族自治区", "银川市", "Yinchuan", "640100", 38.4872, 106.2309, False, 3, "宁", "A",
     (("640104", "兴庆区", 2002), ("640105", "西夏区", 2002), ("640106", "金凤区", 2002)),
     (("640120", 0, 1983), ("640101", 1983, _FOREVER))),
    ("青海省", "西宁市", "Xining", "630100", 36.6171, 101.7782, False, 2, "青", "A",
     (("630102", "城东区", 1983), ("630103", "城中区", 1983), ("630104", "城西区", 1983),
      ("630105", "城北区", 1986)),
     (("630120", 0, 1983), ("630101", 1983, _FOREVER))),
    ("西藏自治区", "拉萨市", "Lhasa", "540100", 29.6520, 91.1721, False, 1, "藏", "A",
     (("540102", "城关区", 1983), ("540103", "堆龙德庆区", 2015), ("540104", "达孜区", 2017)),
     (("540120", 0, 1983), ("540101", 1983, _FOREVER))),
)  # fmt: skip


def _build_cities() -> tuple[tuple[City, ...], tuple[_CityMeta, ...]]:
    cities: list[City] = []
    metas: list[_CityMeta] = []
    for row in _CITY_ROWS:
        (
            province,
            name,
            name_en,
            code,
            lat,
            lon,
            coastal,
            weight,
            plate_prov,
            plate_letters,
            districts,
            legacy,
        ) = row
        cities.append(
            City(
                province=province,
                city=name,
                city_en=name_en,
                region_code=code,
                districts=tuple((d_code, d_name) for d_code, d_name, _ in districts),
                latitude=lat,
                longitude=lon,
                coastal=coastal,
            )
        )
        metas.append(
            _CityMeta(
                weight=weight,
                plate_province=plate_prov,
                plate_letters=plate_letters,
                district_since=tuple(since for _, _, since in districts),
                legacy=legacy,
            )
        )
    return tuple(cities), tuple(metas)


CITIES, _METAS = _build_cities()
_CITY_INDEX: dict[str, int] = {c.region_code: i for i, c in enumerate(CITIES)}


def city_by_code(region_code: str) -> City:
    """The city in :data:`CITIES` with this 6-digit region code (``KeyError`` if none)."""
    return CITIES[_CITY_INDEX[region_code]]


def _meta(city: City) -> _CityMeta:
    try:
        return _METAS[_CITY_INDEX[city.region_code]]
    except KeyError:
        raise ValueError(f"unknown city {city.city} ({city.region_code}); use CITIES") from None


# ---------------------------------------------------------------------------------------------
# Shared vocabularies
# ---------------------------------------------------------------------------------------------

# Surnames with approximate frequency per 10,000 people (2020 census order), plus rare
# two-character surnames.
_SURNAME_FREQ: tuple[tuple[str, int], ...] = (
    ("王", 712), ("李", 707), ("张", 668), ("刘", 538), ("陈", 453), ("杨", 308), ("黄", 223),
    ("赵", 219), ("吴", 205), ("周", 191), ("徐", 146), ("孙", 138), ("马", 129), ("朱", 126),
    ("胡", 116), ("郭", 115), ("何", 106), ("林", 101), ("高", 100), ("罗", 86), ("郑", 85),
    ("梁", 83), ("谢", 73), ("宋", 68), ("唐", 68), ("许", 66), ("韩", 64), ("冯", 63),
    ("邓", 62), ("曹", 61), ("彭", 59), ("曾", 58), ("肖", 57), ("田", 55), ("董", 54),
    ("袁", 53), ("潘", 52), ("于", 51), ("蒋", 50), ("蔡", 49), ("余", 48), ("杜", 47),
    ("叶", 46), ("程", 45), ("苏", 44), ("魏", 43), ("吕", 42), ("丁", 41), ("任", 40),
    ("沈", 39), ("姚", 38), ("卢", 37), ("姜", 36), ("崔", 35), ("钟", 34), ("谭", 33),
    ("陆", 32), ("汪", 31), ("范", 30), ("金", 29), ("石", 28), ("廖", 27), ("贾", 26),
    ("夏", 25), ("韦", 24), ("付", 23), ("方", 22), ("白", 21), ("邹", 20), ("孟", 20),
    ("熊", 19), ("秦", 19), ("邱", 18), ("江", 18), ("尹", 17), ("薛", 17), ("闫", 16),
    ("段", 16), ("雷", 15), ("侯", 15), ("龙", 14), ("史", 14), ("陶", 13), ("黎", 13),
    ("贺", 12), ("顾", 12), ("毛", 11), ("郝", 11), ("龚", 10), ("邵", 10), ("万", 10),
    ("钱", 9), ("严", 9), ("覃", 8), ("武", 8), ("戴", 8), ("莫", 7), ("孔", 7), ("向", 7),
    ("欧阳", 3), ("司马", 1), ("诸葛", 1), ("上官", 1),
)  # fmt: skip

_GIVEN_MALE = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国峰亮成东文志海晨博然轩睿昊天毅诚"
)
_GIVEN_FEMALE = (
    "芳娜敏静丽艳娟霞秀玲婷雪慧颖琳洁晶倩莉萍红燕梅兰丹佳欣怡雨萱涵诗梦琪悦思晓蕾薇妍璐嘉若"
)

# Mobile prefixes of the three carriers (and virtual operators in the 170s).
_MOBILE_PREFIXES: tuple[str, ...] = tuple(
    [str(p) for p in range(130, 140)]
    + [str(p) for p in range(150, 160) if p != 154]
    + ["170", "171", "172", "173", "175", "176", "177", "178"]
    + [str(p) for p in range(180, 190)]
    + ["191", "193", "195", "196", "197", "198", "199"]
)

_ROADS: tuple[str, ...] = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路", "长江路",
    "黄河路", "学府路", "科技路", "光明路", "朝阳路", "东风路", "青年路", "团结路", "幸福路",
    "滨江路", "北京路", "延安路", "环城路", "创业路", "花园路", "府前路", "湖滨路", "振兴路",
    "迎宾大道", "世纪大道", "工业大道", "金融街", "建国路", "民主路", "复兴路", "兴华路",
    "前进路", "体育路", "公园路", "站前路", "新城大道", "高新路", "科技园路", "软件园路",
    "望江路", "翠苑路", "锦绣路", "春华路", "金桥路", "海滨路", "育才路",
)  # fmt: skip

_BUILDING_KINDS: tuple[str, ...] = ("栋", "幢", "号楼")


_RIC_CHECK = "10X98765432"


def _ric_residue(seventeen: str) -> int:
    """Weighted sum modulo 11 of a digit string, via the shared check-digit helper.

    The helper maps the sum to ``"10X98765432"[sum % 11]``, so the residue of a part of the
    number (other positions zero) is recovered from its check character; residues of the parts
    add up, which lets the generator precompute them once.
    """
    return _RIC_CHECK.index(resident_id_check_digit(seventeen))


@cache
def _digits4() -> tuple[str, ...]:
    return tuple(f"{i:04d}" for i in range(10_000))


@cache
def _street_numbers() -> tuple[str, ...]:
    """Strings like 人民路88号: every road with numbers 1–399 (small numbers more often)."""
    out: list[str] = []
    for road in _ROADS:
        out.extend(f"{road}{n}号" for n in range(1, 400))
        out.extend(f"{road}{n}号" for n in range(1, 100))
    return tuple(out)


@cache
def _unit_suffixes() -> tuple[str, ...]:
    """Building and room suffixes ("3栋1201室"); about 40 % of addresses have none."""
    rooms: list[str] = []
    for building in range(1, 21):
        kind = _BUILDING_KINDS[building % len(_BUILDING_KINDS)]
        for floor in range(1, 33):
            for unit in range(1, 5):
                rooms.append(f"{building}{kind}{floor}{unit:02d}室")
    return tuple(rooms) + ("",) * (len(rooms) * 2 // 3)


def _pick_city_index(rng: random.Random, table: tuple[int, ...]) -> int:
    return table[int(rng.random() * len(table))]


@cache
def _city_table() -> tuple[int, ...]:
    """City indices repeated by weight, for O(1) weighted choice."""
    return tuple(i for i, meta in enumerate(_METAS) for _ in range(meta.weight))


def _district_address_prefix(city: City, district: str) -> str:
    if city.province == city.city:  # municipality: 北京市朝阳区…
        return city.city + district
    return city.province + city.city + district


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakePerson:
    """A synthetic resident with a valid (but not real) 身份证号 and mobile number."""

    name: str
    gender: str
    birth_date: date
    id_number: str
    mobile: str
    city: City
    district: str
    address: str


@dataclass(frozen=True, slots=True)
class _IdCode:
    code: str
    residue: int
    index: int  # unique per code, for collision keys


@dataclass(frozen=True, slots=True)
class _Residence:
    city: City
    district: str
    address_prefix: str
    entry: int  # index into the per-year ID-code candidate tables


@cache
def _residences() -> tuple[tuple[_Residence, ...], tuple[int, ...]]:
    """Every (city, district) pair, and a weighted lookup table over them."""
    residences: list[_Residence] = []
    table: list[int] = []
    for city, meta in zip(CITIES, _METAS, strict=True):
        per_district = max(1, meta.weight * 60 // len(city.districts))
        for _code, name in city.districts:
            entry = len(residences)
            residences.append(_Residence(city, name, _district_address_prefix(city, name), entry))
            table.extend([entry] * per_district)
    return tuple(residences), tuple(table)


@cache
def _id_codes() -> dict[str, _IdCode]:
    codes: dict[str, _IdCode] = {}
    for city, meta in zip(CITIES, _METAS, strict=True):
        all_codes = [c for c, _ in city.districts] + [c for c, _, _ in meta.legacy]
        for code in all_codes:
            if code not in codes:
                codes[code] = _IdCode(code, _ric_residue(code + "0" * 11), len(codes))
    return codes


@cache
def _id_candidates_for_year(year: int) -> tuple[tuple[_IdCode, ...], ...]:
    """For each residence entry, the address codes a person born in ``year`` may carry.

    The residence district's own code when it already existed in that year; otherwise the
    city's then-valid codes (older codes for the same area and the city's other districts).
    """
    codes = _id_codes()
    out: list[tuple[_IdCode, ...]] = []
    for city, meta in zip(CITIES, _METAS, strict=True):
        valid_districts = [
            codes[code]
            for (code, _), since in zip(city.districts, meta.district_since, strict=True)
            if since <= year
        ]
        legacy = [codes[code] for code, first, last in meta.legacy if first <= year <= last]
        fallback = tuple(legacy + valid_districts)
        if not fallback:
            raise ValueError(f"no valid address code for {city.city} in {year}")
        for (code, _), since in zip(city.districts, meta.district_since, strict=True):
            out.append((codes[code],) if since <= year else fallback)
    return tuple(out)


@cache
def _distinct_codes(year: int) -> int:
    return len({code.index for options in _id_candidates_for_year(year) for code in options})


def _age_weight(age: int) -> int:
    if 25 <= age <= 65:
        return 5
    if 18 <= age <= 24 or 66 <= age <= 75:
        return 3
    return 2


@dataclass(frozen=True, slots=True)
class _BirthDay:
    day: date
    digits: str  # YYYYMMDD
    residue: int
    ordinal: int
    candidates: tuple[tuple[_IdCode, ...], ...]  # per residence entry


@lru_cache(maxsize=16)  # ~31,000 days per entry; bounded for callers sweeping as_of
def _birth_days(
    as_of: date, min_age: int, max_age: int
) -> tuple[tuple[_BirthDay, ...], tuple[int, ...], int]:
    """Possible birth days, a weighted index table over them, and the ID-number capacity."""
    year_res: dict[int, int] = {}
    month_res = {m: _ric_residue(f"0000000000{m:02d}00000") for m in range(1, 13)}
    day_res = {d: _ric_residue(f"000000000000{d:02d}000") for d in range(1, 32)}
    days: list[_BirthDay] = []
    table: list[int] = []
    capacity = 0
    first = date(as_of.year - max_age - 1, 1, 1).toordinal()
    for ordinal in range(first, as_of.toordinal() + 1):
        born = date.fromordinal(ordinal)
        age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
        if not min_age <= age <= max_age:
            continue
        if born.year not in year_res:
            year_res[born.year] = _ric_residue(f"000000{born.year:04d}0000000")
        candidates = _id_candidates_for_year(born.year)
        residue = (year_res[born.year] + month_res[born.month] + day_res[born.day]) % 11
        index = len(days)
        days.append(_BirthDay(born, born.strftime("%Y%m%d"), residue, ordinal, candidates))
        table.extend([index] * _age_weight(age))
        capacity += _distinct_codes(born.year) * 499
    return tuple(days), tuple(table), capacity


@cache
def _sequences() -> tuple[tuple[str, ...], tuple[int, ...]]:
    strings = tuple(f"{s:03d}" for s in range(1000))
    residues = tuple(_ric_residue("0" * 14 + s) for s in strings)
    return strings, residues


@cache
def _surname_table() -> tuple[str, ...]:
    return tuple(name for name, freq in _SURNAME_FREQ for _ in range(freq))


@cache
def _given_names(chars: str) -> tuple[str, ...]:
    """Two-character given names, plus one-character names making up about 30 %."""
    doubles = [a + b for a in chars for b in chars]
    singles = list(chars) * max(1, len(doubles) * 3 // 7 // len(chars))
    return tuple(doubles + singles)


def generate_people(
    seed: int,
    count: int,
    *,
    as_of: date,
    min_age: int = 0,
    max_age: int = 85,
    city: City | None = None,
) -> Iterator[FakePerson]:
    """Deterministic: same seed and arguments -> identical sequence.

    With ``city`` every person lives in that city (e.g. a city health plan's residents).

    Ages (completed years on ``as_of``) lie in ``[min_age, max_age]``, spread over the whole
    range but weighted toward 25–65.  ID numbers are unique within one call.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0 <= min_age <= max_age <= 150:
        raise ValueError("need 0 <= min_age <= max_age <= 150")
    days, day_table, capacity = _birth_days(as_of, min_age, max_age)
    if count > capacity // 4:
        raise ValueError(f"cannot generate {count} distinct ID numbers for this age range")
    if city is not None and city not in CITIES:
        raise ValueError(f"unknown city {city.region_code}")
    return _people(seed, count, days, day_table, city)


def _people(
    seed: int,
    count: int,
    days: tuple[_BirthDay, ...],
    day_table: tuple[int, ...],
    city: City | None,
) -> Iterator[FakePerson]:
    residences, residence_table = _residences()
    if city is not None:
        residence_table = tuple(i for i in residence_table if residences[i].city == city)
    seq_strings, seq_residues = _sequences()
    surnames = _surname_table()
    male_names = _given_names(_GIVEN_MALE)
    female_names = _given_names(_GIVEN_FEMALE)
    prefixes = _MOBILE_PREFIXES
    digits4 = _digits4()
    streets = _street_numbers()
    units = _unit_suffixes()
    check = _RIC_CHECK
    person = FakePerson

    rng = random.Random(seed)
    rand = rng.random
    n_days = len(day_table)
    n_res = len(residence_table)
    n_surnames = len(surnames)
    n_male = len(male_names)
    n_female = len(female_names)
    n_prefixes = len(prefixes)
    n_streets = len(streets)
    n_units = len(units)
    used: set[int] = set()

    for _ in range(count):
        male = rand() < 0.5
        while True:
            born = days[day_table[int(rand() * n_days)]]
            home = residences[residence_table[int(rand() * n_res)]]
            options = born.candidates[home.entry]
            area = options[0] if len(options) == 1 else options[int(rand() * len(options))]
            seq = int(rand() * 500) * 2 + 1 if male else int(rand() * 499) * 2 + 2
            key = (area.index << 32) | (born.ordinal << 10) | seq
            if key not in used:
                used.add(key)
                break
        total = area.residue + born.residue + seq_residues[seq]
        id_number = area.code + born.digits + seq_strings[seq] + check[total % 11]
        if male:
            name = surnames[int(rand() * n_surnames)] + male_names[int(rand() * n_male)]
        else:
            name = surnames[int(rand() * n_surnames)] + female_names[int(rand() * n_female)]
        mobile_digits = int(rand() * 100_000_000)
        mobile = (
            prefixes[int(rand() * n_prefixes)]
            + digits4[mobile_digits // 10_000]
            + digits4[mobile_digits % 10_000]
        )
        address = (
            home.address_prefix + streets[int(rand() * n_streets)] + units[int(rand() * n_units)]
        )
        yield person(
            name,
            "M" if male else "F",
            born.day,
            id_number,
            mobile,
            home.city,
            home.district,
            address,
        )


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeOrganisation:
    """A synthetic company with a valid (but not real) 统一社会信用代码."""

    name: str
    name_en: str
    credit_code: str
    industry: str
    city: City
    address: str


# Trade-name characters (字号) with their pinyin.
_TRADE_CHARS: tuple[tuple[str, str], ...] = (
    ("华", "hua"), ("安", "an"), ("信", "xin"), ("达", "da"), ("恒", "heng"), ("泰", "tai"),
    ("瑞", "rui"), ("丰", "feng"), ("盛", "sheng"), ("鑫", "xin"), ("宏", "hong"), ("远", "yuan"),
    ("嘉", "jia"), ("和", "he"), ("隆", "long"), ("兴", "xing"), ("德", "de"), ("通", "tong"),
    ("永", "yong"), ("新", "xin"), ("中", "zhong"), ("联", "lian"), ("海", "hai"), ("天", "tian"),
    ("金", "jin"), ("博", "bo"), ("众", "zhong"), ("科", "ke"), ("创", "chuang"), ("源", "yuan"),
    ("誉", "yu"), ("晟", "sheng"), ("昌", "chang"), ("润", "run"), ("汇", "hui"), ("凯", "kai"),
    ("亿", "yi"), ("万", "wan"), ("启", "qi"), ("明", "ming"), ("峰", "feng"), ("辰", "chen"),
    ("恩", "en"), ("奥", "ao"), ("诚", "cheng"), ("宇", "yu"), ("东", "dong"), ("鸿", "hong"),
)  # fmt: skip

# (国民经济行业门类, name fragment, English fragment, relative weight)
_INDUSTRIES: tuple[tuple[str, str, str, int], ...] = (
    ("制造业", "精密制造", "Precision Manufacturing", 6),
    ("制造业", "机械设备", "Machinery & Equipment", 5),
    ("制造业", "电子科技", "Electronic Technology", 6),
    ("制造业", "新材料", "New Materials", 3),
    ("制造业", "汽车零部件", "Auto Parts", 3),
    ("制造业", "纺织", "Textile", 2),
    ("制造业", "食品", "Food", 2),
    ("批发和零售业", "商贸", "Trading", 8),
    ("批发和零售业", "医药", "Pharmaceutical", 2),
    ("信息传输、软件和信息技术服务业", "信息技术", "Information Technology", 5),
    ("信息传输、软件和信息技术服务业", "软件", "Software", 3),
    ("交通运输、仓储和邮政业", "物流", "Logistics", 4),
    ("交通运输、仓储和邮政业", "供应链管理", "Supply Chain Management", 2),
    ("建筑业", "建设工程", "Construction Engineering", 4),
    ("住宿和餐饮业", "餐饮管理", "Catering Management", 3),
    ("住宿和餐饮业", "酒店管理", "Hotel Management", 1),
    ("房地产业", "物业管理", "Property Management", 3),
    ("科学研究和技术服务业", "检测技术", "Testing Technology", 1),
    ("租赁和商务服务业", "企业管理咨询", "Management Consulting", 3),
    ("电力、热力、燃气及水生产和供应业", "新能源", "New Energy", 2),
    ("农、林、牧、渔业", "农业发展", "Agricultural Development", 1),
)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
_ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_code_check(body: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def _uscc_check(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _trade_name(rng: random.Random) -> tuple[str, str]:
    (a, a_py), (b, b_py) = rng.sample(_TRADE_CHARS, 2)
    joiner = "'" if b_py[0] in "aeo" else ""
    return a + b, a_py.capitalize() + joiner + b_py


def generate_organisations(seed: int, count: int) -> Iterator[FakeOrganisation]:
    """Deterministic synthetic companies; credit codes are unique within one call."""
    if count < 0:
        raise ValueError("count must not be negative")
    return _organisations(seed, count)


def _organisations(seed: int, count: int) -> Iterator[FakeOrganisation]:
    rng = random.Random(seed)
    city_table = _city_table()
    streets = _street_numbers()
    industry_weights = [w for *_, w in _INDUSTRIES]
    used: set[str] = set()
    for _ in range(count):
        city = CITIES[_pick_city_index(rng, city_table)]
        industry, zh, en, _w = rng.choices(_INDUSTRIES, weights=industry_weights)[0]
        trade_zh, trade_en = _trade_name(rng)
        joint_stock = rng.random() < 0.15
        suffix_zh, suffix_en = (
            ("股份有限公司", "Corp., Ltd.") if joint_stock else ("有限公司", "Co., Ltd.")
        )
        while True:
            body = "MA" + "".join(rng.choices(_ORG_CODE_CHARS, k=6))
            first17 = "91" + city.region_code + body + _org_code_check(body)
            if first17 not in used:
                used.add(first17)
                break
        _code, district = rng.choice(city.districts)
        floor = rng.randint(2, 28)
        address = (
            _district_address_prefix(city, district)
            + rng.choice(streets)
            + rng.choice(("", f"{floor}层", f"{floor}0{rng.randint(1, 9)}室", "1栋"))
        )
        yield FakeOrganisation(
            name=f"{city.city}{trade_zh}{zh}{suffix_zh}",
            name_en=f"{city.city_en} {trade_en} {en} {suffix_en}",
            credit_code=first17 + _uscc_check(first17),
            industry=industry,
            city=city,
            address=address,
        )


# ---------------------------------------------------------------------------------------------
# Property sites
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeSite:
    """A property risk location with a sum insured in whole fen."""

    name: str
    city: City
    address: str
    latitude: float
    longitude: float
    construction_class: str
    occupancy: str
    sum_insured_fen: int


_CONSTRUCTION_CLASSES = ("A", "B", "C", "D")
_CONSTRUCTION_CUM_WEIGHTS = (30, 70, 90, 100)
_ORDINALS = "一二三四五六七八九十"

# occupancy -> (relative weight, name templates, min and max sum insured in 万元)
_OCCUPANCIES: tuple[tuple[str, int, tuple[str, ...], int, int], ...] = (
    ("office", 25, ("办公楼", "综合楼", "研发中心", "{n}号办公楼"), 500, 15_000),
    ("warehouse", 20, ("仓库{L}", "{n}号仓库", "物流中心", "冷库"), 200, 8_000),
    ("light_manufacturing", 25, ("{n}号厂房", "装配车间", "{n}号车间"), 500, 12_000),
    ("heavy_manufacturing", 10, ("{n}号厂房", "铸造车间", "热处理车间"), 2_000, 30_000),
    ("retail", 20, ("门店", "购物中心", "旗舰店", "{n}号门店"), 200, 6_000),
)

_SITE_RADIUS_KM = 20.0  # well inside the 25 km brief, keeps every site within 0.3° of centre
_KM_PER_DEGREE = 111.32


def generate_sites(seed: int, count: int, *, city: City | None = None) -> Iterator[FakeSite]:
    """Deterministic property sites, in ``city`` or spread over :data:`CITIES` by weight."""
    if count < 0:
        raise ValueError("count must not be negative")
    if city is not None:
        _meta(city)
    return _sites(seed, count, city)


def _sites(seed: int, count: int, fixed_city: City | None) -> Iterator[FakeSite]:
    rng = random.Random(seed)
    city_table = _city_table()
    streets = _street_numbers()
    occupancy_weights = [w for _, w, *_ in _OCCUPANCIES]
    for _ in range(count):
        city = fixed_city or CITIES[_pick_city_index(rng, city_table)]
        occupancy, _w, templates, low, high = rng.choices(_OCCUPANCIES, occupancy_weights)[0]
        name = rng.choice(templates).format(
            n=_ORDINALS[rng.randrange(len(_ORDINALS))], L="ABCDEF"[rng.randrange(6)]
        )
        _code, district = rng.choice(city.districts)
        # Uniform over a disc around the centre.
        distance = _SITE_RADIUS_KM * math.sqrt(rng.random())
        bearing = rng.random() * 2 * math.pi
        lat = city.latitude + distance * math.cos(bearing) / _KM_PER_DEGREE
        lon = city.longitude + distance * math.sin(bearing) / (
            _KM_PER_DEGREE * math.cos(math.radians(city.latitude))
        )
        # Log-uniform sum insured, rounded to 10,000 CNY (1 万元 = 1,000,000 fen).
        wan = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        yield FakeSite(
            name=name,
            city=city,
            address=_district_address_prefix(city, district) + rng.choice(streets),
            latitude=round(lat, 6),
            longitude=round(lon, 6),
            construction_class=rng.choices(
                _CONSTRUCTION_CLASSES, cum_weights=_CONSTRUCTION_CUM_WEIGHTS
            )[0],
            occupancy=occupancy,
            sum_insured_fen=min(max(wan, 200), 30_000) * 1_000_000,
        )


# ---------------------------------------------------------------------------------------------
# Vehicles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeVehicle:
    """A private car with a plate of the owner's city and a VIN with a valid check digit."""

    plate: str
    vin: str
    make_model: str
    energy: str
    new_price_fen: int
    first_registration: date
    seats: int


@dataclass(frozen=True, slots=True)
class _Model:
    make_model: str
    wmi: str  # world manufacturer identifier of the Chinese maker / joint venture
    plate_kind: str  # "D" pure electric, "F" plug-in / range-extender, "" petrol
    price_yuan: int
    seats: int
    launched: int  # first year on sale in China
    weight: int


_NEV_MODELS: tuple[_Model, ...] = (
    _Model("比亚迪 汉EV", "LGX", "D", 209_800, 5, 2020, 6),
    _Model("比亚迪 秦PLUS DM-i", "LGX", "F", 99_800, 5, 2021, 10),
    _Model("比亚迪 元PLUS", "LGX", "D", 135_800, 5, 2022, 7),
    _Model("比亚迪 海豚", "LGX", "D", 99_800, 5, 2021, 6),
    _Model("比亚迪 唐DM-i", "LGX", "F", 209_800, 7, 2021, 3),
    _Model("特斯拉 Model 3", "LRW", "D", 245_900, 5, 2019, 6),
    _Model("特斯拉 Model Y", "LRW", "D", 263_900, 5, 2021, 8),
    _Model("蔚来 ET5", "LJ1", "D", 298_000, 5, 2022, 2),
    _Model("理想 L7", "LW4", "F", 319_800, 5, 2023, 3),
    _Model("理想 L9", "LW4", "F", 429_800, 6, 2022, 2),
    _Model("小鹏 P7", "L1N", "D", 209_900, 5, 2020, 2),
    _Model("五菱 宏光MINIEV", "LZW", "D", 32_800, 4, 2020, 5),
    _Model("埃安 AION S", "LMG", "D", 139_800, 5, 2019, 4),
    _Model("问界 M7", "LM8", "F", 249_800, 5, 2022, 3),
    _Model("小米 SU7", "LXM", "D", 215_900, 5, 2024, 2),
    _Model("极氪 001", "L6T", "D", 269_000, 5, 2021, 2),
)

_PETROL_MODELS: tuple[_Model, ...] = (
    _Model("大众 帕萨特", "LSV", "", 181_900, 5, 2000, 6),
    _Model("大众 朗逸", "LSV", "", 119_900, 5, 2008, 9),
    _Model("大众 桑塔纳", "LSV", "", 84_900, 5, 1985, 3),
    _Model("丰田 卡罗拉", "LFM", "", 119_800, 5, 2004, 7),
    _Model("丰田 凯美瑞", "LVG", "", 179_800, 5, 2006, 5),
    _Model("本田 雅阁", "LHG", "", 179_800, 5, 1999, 5),
    _Model("本田 思域", "LVH", "", 129_900, 5, 2006, 4),
    _Model("日产 轩逸", "LGB", "", 109_900, 5, 2006, 8),
    _Model("别克 GL8", "LSG", "", 299_900, 7, 2000, 3),
    _Model("宝马 5系", "LBV", "", 439_900, 5, 2006, 3),
    _Model("奔驰 C级", "LE4", "", 339_900, 5, 2008, 3),
    _Model("奥迪 A6L", "LFV", "", 429_800, 5, 2005, 3),
    _Model("吉利 星越L", "L6T", "", 145_700, 5, 2021, 4),
    _Model("哈弗 H6", "LGW", "", 119_900, 5, 2011, 6),
    _Model("长安 CS75 PLUS", "LS5", "", 119_900, 5, 2019, 5),
    _Model("红旗 H5", "LFP", "", 169_800, 5, 2018, 2),
)

_VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # ISO 3779: no I, O, Q
_VIN_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_MODEL_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980 = A, cycles every 30 years
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O


def _vin(rng: random.Random, wmi: str, year: int) -> str:
    vds = "".join(rng.choices(_VIN_ALPHABET, k=5))
    model_year = _MODEL_YEAR_CODES[(year - 1980) % 30]
    plant = rng.choice(_VIN_ALPHABET[1:])
    serial = f"{rng.randrange(1_000_000):06d}"
    partial = wmi + vds + "0" + model_year + plant + serial
    total = sum(_VIN_VALUES[c] * w for c, w in zip(partial, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return partial[:8] + ("X" if remainder == 10 else str(remainder)) + partial[9:]


def _plate(rng: random.Random, meta: _CityMeta, kind: str) -> str:
    prefix = meta.plate_province + rng.choice(meta.plate_letters) + "·"
    if kind:  # green NEV plate: D/F + 5 characters, the second may be a letter
        second = rng.choice(_PLATE_LETTERS) if rng.random() < 0.3 else str(rng.randrange(10))
        return f"{prefix}{kind}{second}{rng.randrange(10_000):04d}"
    chars = [str(rng.randrange(10)) for _ in range(5)]
    for position in rng.sample(range(5), rng.choice((0, 1, 1, 1, 2))):
        chars[position] = rng.choice(_PLATE_LETTERS)
    return prefix + "".join(chars)


def generate_vehicles(seed: int, count: int, *, city: City, as_of: date) -> Iterator[FakeVehicle]:
    """Deterministic private cars registered in ``city`` on or before ``as_of``; ~40 % NEV."""
    if count < 0:
        raise ValueError("count must not be negative")
    meta = _meta(city)
    nev = tuple(m for m in _NEV_MODELS if m.launched <= as_of.year)
    petrol = tuple(m for m in _PETROL_MODELS if m.launched <= as_of.year)
    if not petrol:
        raise ValueError(f"no car models on sale by {as_of}")
    return _vehicles(seed, count, meta, as_of, nev, petrol)


def _vehicles(
    seed: int,
    count: int,
    meta: _CityMeta,
    as_of: date,
    nev: tuple[_Model, ...],
    petrol: tuple[_Model, ...],
) -> Iterator[FakeVehicle]:
    rng = random.Random(seed)
    nev_weights = [m.weight for m in nev]
    petrol_weights = [m.weight for m in petrol]
    for _ in range(count):
        if nev and rng.random() < 0.4:
            model = rng.choices(nev, nev_weights)[0]
            max_age_days = 8 * 365
        else:
            model = rng.choices(petrol, petrol_weights)[0]
            max_age_days = 15 * 365
        earliest = max(date(model.launched, 1, 1), as_of - timedelta(days=max_age_days))
        registered = earliest + timedelta(days=rng.randrange((as_of - earliest).days + 1))
        price_yuan = round(model.price_yuan * rng.uniform(0.9, 1.1) / 100) * 100
        yield FakeVehicle(
            plate=_plate(rng, meta, model.plate_kind),
            vin=_vin(rng, model.wmi, registered.year),
            make_model=model.make_model,
            energy="nev" if model.plate_kind else "petrol",
            new_price_fen=price_yuan * 100,
            first_registration=registered,
            seats=model.seats,
        )
