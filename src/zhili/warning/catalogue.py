"""The risk categories the city watches, their sensor types and default rules.

Each category names where it is defined (`source`). Handling measures are
written per level from two phrases per category: what to watch (blue,
yellow) and what to do (orange, red). Default thresholds come from the
standard named with them where one exists; the others are marked `assumed`
and are for a city to replace with its own (a rule on a category or a risk
point overrides the type's default).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

SOURCES = {
    "geo": "《地质灾害防治条例》(国务院令第394号); DZ/T 0221-2006《崩塌、滑坡、泥石流监测规范》",
    "debris": "《地质灾害防治条例》(国务院令第394号); DZ/T 0220-2006《泥石流灾害防治工程勘查规范》",
    "flood": "《国家防汛抗旱应急预案》(2022); GB/T 22482-2008《水文情报预报规范》",
    "urban-flood": "GB 51222-2017《城镇内涝防治技术规范》",
    "met": "《气象灾害预警信号发布与传播办法》(中国气象局令第16号) and its signal standards",
    "rain": "GB/T 28592-2012《降水量等级》; 《气象灾害预警信号发布与传播办法》(中国气象局令第16号)",
    "forest": "《森林防火条例》(国务院令第541号); 《国家森林草原火灾应急预案》(2020)",
    "chem": "GB 18218-2018《危险化学品重大危险源辨识》; GB/T 50493-2019《石油化工可燃气体和有毒气体检测报警设计标准》",
    "gas": "《城镇燃气管理条例》(国务院令第583号); GB/T 50493-2019",
    "tailings": "GB 39496-2020《尾矿库安全规程》",
    "reservoir": "《水库大坝安全管理条例》(国务院令第77号); SL 551-2012《土石坝安全监测技术规范》",
    "bridge": "JT/T 1037-2016《公路桥梁结构监测技术规范》",
    "pit": "GB 50497-2019《建筑基坑工程监测技术标准》",
    "building": "JGJ 125-2016《危险房屋鉴定标准》",
    "fire": "GB 50116-2013《火灾自动报警系统设计规范》; 《中华人民共和国消防法》",
    "lift": "TSG T7001-2023《电梯监督检验和定期检验规则》; 《特种设备安全法》",
    "air": "HJ 633-2012《环境空气质量指数(AQI)技术规定》; 《重污染天气应急预案》",
    "water-source": "GB 3838-2002《地表水环境质量标准》; 《饮用水水源保护区污染防治管理规定》",
    "crowd": "《大型群众性活动安全管理条例》(国务院令第505号)",
    "mine": "《金属非金属矿山安全规程》GB 16423-2020",
    "quake": "《国家地震应急预案》(2012); GB/T 17742-2020《中国地震烈度表》",
    "power": "《电力安全事故应急处置和调查处理条例》(国务院令第599号)",
}


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    name_en: str
    cap_category: str
    case_category: str  # the governance category an on-site case is opened in
    sensor_types: tuple[str, ...]
    source: str
    watch: tuple[str, str]  # what to watch (zh, en)
    act: tuple[str, str]    # what to do (zh, en)


C = CategorySpec
CATEGORIES: list[CategorySpec] = [
    C("landslide", "滑坡", "Landslide", "Geo", "landslide-risk",
      ("displacement", "rainfall_1h", "crack_width"), SOURCES["geo"],
      ("巡查坡体裂缝、鼓胀和渗水", "patrol the slope for cracks, bulging and seepage"),
      ("疏散坡下住户，封闭坡脚道路", "evacuate homes below the slope and close the roads at its foot")),
    C("dangerous-rock", "危岩崩塌", "Dangerous rock and rockfall", "Geo", "landslide-risk",
      ("crack_width", "tilt", "rainfall_1h"), SOURCES["geo"],
      ("观察危岩裂隙和落石", "watch the rock's fissures and falling stones"),
      ("撤离危岩影响区，设置警戒", "clear the rockfall zone and set a cordon")),
    C("debris-flow", "泥石流", "Debris flow", "Geo", "landslide-risk",
      ("rainfall_1h", "mud_level"), SOURCES["debris"],
      ("关注沟道水位和浑浊度", "watch the gully's water level and turbidity"),
      ("沿避险路线撤离沟口人员", "evacuate the gully mouth along the escape routes")),
    C("subsidence", "地面塌陷", "Ground subsidence", "Geo", "landslide-risk",
      ("settlement",), SOURCES["geo"],
      ("巡查地面裂缝和沉降", "patrol for ground cracks and settlement"),
      ("封闭塌陷区，疏散周边人员", "close the sinking area and clear people around it")),
    C("flash-flood", "山洪", "Flash flood", "Met", "waterlogging",
      ("rainfall_1h", "water_level"), SOURCES["flood"],
      ("关注上游雨情和溪河水位", "watch upstream rainfall and stream levels"),
      ("转移沿河低洼处人员", "move people out of low ground along the stream")),
    C("river-flood", "江河洪水", "River flood", "Met", "waterlogging",
      ("water_level", "flow"), SOURCES["flood"],
      ("加密水位观测，巡查堤防", "read the gauge more often and patrol the embankments"),
      ("抢护险工险段，转移洪泛区人员", "shore up weak embankments and move people off the floodplain")),
    C("urban-waterlogging", "城市内涝", "Urban waterlogging", "Met", "waterlogging",
      ("water_depth", "rainfall_1h"), SOURCES["urban-flood"],
      ("巡查下穿道、低洼路段积水", "patrol underpasses and low roads for standing water"),
      ("封闭积水路段和下穿道，转移地下空间人员", "close flooded roads and underpasses, clear basements")),
    C("reservoir", "水库安全", "Reservoir safety", "Infra", "production-safety",
      ("water_level", "seepage", "displacement"), SOURCES["reservoir"],
      ("加密大坝巡查和渗流观测", "patrol the dam and read seepage more often"),
      ("开闸泄洪或转移下游人员", "release water or move people downstream")),
    C("rainstorm", "暴雨", "Rainstorm", "Met", "waterlogging",
      ("rainfall_1h",), SOURCES["rain"],
      ("关注雨情，检查排水设施", "watch the rain and check the drains"),
      ("停止户外作业，转移危险区域人员", "stop outdoor work and move people out of danger zones")),
    C("gale", "大风", "Gale", "Met", "production-safety",
      ("wind_speed",), SOURCES["met"],
      ("加固临时搭建物和户外广告", "secure temporary structures and billboards"),
      ("停止高空作业和户外活动", "stop work at height and outdoor events")),
    C("heat", "高温", "Heat", "Met", "production-safety",
      ("air_temperature",), SOURCES["met"],
      ("调整户外作业时间，防暑降温", "shift outdoor work hours and guard against heatstroke"),
      ("停止户外露天作业，开放避暑场所", "stop outdoor work and open cooling centres")),
    C("fog", "大雾", "Fog", "Met", "production-safety",
      ("visibility",), SOURCES["met"],
      ("提示驾驶人减速慢行", "tell drivers to slow down"),
      ("封闭高速公路和渡口", "close expressways and ferry crossings")),
    C("road-icing", "道路结冰", "Road icing", "Met", "production-safety",
      ("road_temperature",), SOURCES["met"],
      ("准备融雪剂和防滑物资", "ready de-icing salt and grit"),
      ("封闭结冰路段和桥梁", "close iced roads and bridges")),
    C("forest-fire", "森林火灾", "Forest fire", "Fire", "fire-hazard",
      ("fire_danger_index", "air_temperature", "humidity"), SOURCES["forest"],
      ("加强林区巡护，严控野外用火", "step up forest patrols and ban outdoor fires"),
      ("扑火队伍集结待命，疏散林区人员", "muster the firefighting teams and clear the forest")),
    C("hazardous-chemicals", "危险化学品", "Hazardous chemicals", "CBRNE", "hazardous-chemicals",
      ("gas_lel", "tank_temperature", "tank_pressure"), SOURCES["chem"],
      ("检查储罐和管线，核对工艺参数", "check tanks and lines against their process limits"),
      ("切断物料，疏散厂区及下风向人员", "shut off the feed and evacuate the plant and downwind")),
    C("gas-network", "城镇燃气", "Town gas network", "Infra", "gas-smell",
      ("gas_lel", "gas_pressure"), SOURCES["gas"],
      ("巡检管线，排查泄漏点", "walk the mains and look for leaks"),
      ("关阀断气，疏散周边人员，禁止明火", "close the valves, clear the area, no naked flames")),
    C("tailings-pond", "尾矿库", "Tailings pond", "Infra", "production-safety",
      ("water_level", "displacement", "seepage"), SOURCES["tailings"],
      ("加密坝体位移和浸润线观测", "read dam movement and the phreatic line more often"),
      ("停止排放，撤离下游人员", "stop discharging and evacuate downstream")),
    C("mine", "非煤矿山", "Non-coal mine", "Safety", "production-safety",
      ("gas_lel", "displacement"), SOURCES["mine"],
      ("加强井下通风和顶板检查", "improve ventilation and check the roof"),
      ("停止作业，撤出井下人员", "stop work and bring everyone out")),
    C("bridge", "桥梁结构", "Bridge structure", "Infra", "production-safety",
      ("strain", "deflection", "vibration"), SOURCES["bridge"],
      ("组织专项检查，限制超载车辆", "inspect the bridge and keep overloaded lorries off"),
      ("封闭桥梁交通", "close the bridge to traffic")),
    C("foundation-pit", "深基坑", "Deep foundation pit", "Safety", "production-safety",
      ("displacement", "settlement", "water_level"), SOURCES["pit"],
      ("加密监测，检查支护结构", "monitor more often and check the shoring"),
      ("停止坑内作业，撤出人员并回填反压", "stop work in the pit, bring people out and backfill")),
    C("dangerous-building", "危旧房屋", "Dangerous old building", "Safety", "unsafe-building",
      ("tilt", "crack_width"), SOURCES["building"],
      ("巡查裂缝和倾斜变化", "patrol for new cracks and tilt"),
      ("撤离住户，设置警戒区", "move the residents out and set a cordon")),
    C("high-rise-fire", "高层建筑消防", "High-rise fire safety", "Fire", "fire-hazard",
      ("smoke", "fire_water_pressure"), SOURCES["fire"],
      ("检查消防设施和疏散通道", "check the fire systems and escape routes"),
      ("组织疏散，通知消防救援", "evacuate the building and call the fire service")),
    C("elevator", "电梯安全", "Elevator safety", "Safety", "elevator-fault",
      ("elevator_fault",), SOURCES["lift"],
      ("通知维保单位检查", "have the maintainer inspect it"),
      ("停用电梯，解救被困人员", "take the lift out of service and free anyone trapped")),
    C("air-pollution", "重污染天气", "Heavy air pollution", "Env", "cooking-fumes",
      ("pm25",), SOURCES["air"],
      ("提示易感人群减少户外活动", "advise sensitive people to stay indoors"),
      ("启动重污染天气应急减排措施", "start the emergency emission cuts")),
    C("water-source", "饮用水源", "Drinking water source", "Env", "river-pollution",
      ("turbidity", "ammonia_nitrogen"), SOURCES["water-source"],
      ("加密水质采样", "sample the water more often"),
      ("启用备用水源，停止取水", "switch to the reserve source and stop abstraction")),
    C("crowd", "人员密集场所", "Crowded place", "Safety", "public-order",
      ("people_density",), SOURCES["crowd"],
      ("加强现场疏导", "step up crowd guidance on site"),
      ("限流封控，分流疏散", "stop entry and disperse the crowd")),
    C("earthquake", "地震", "Earthquake", "Geo", "unsafe-building",
      ("seismic_intensity",), SOURCES["quake"],
      ("排查房屋和生命线工程", "check buildings and lifelines"),
      ("启动地震应急响应，组织避险", "start the earthquake response and move people to shelters")),
    C("power-grid", "电网安全", "Power grid", "Infra", "power-outage",
      ("line_temperature", "load_ratio"), SOURCES["power"],
      ("加强线路巡视和负荷监测", "patrol the lines and watch the load"),
      ("有序用电，保障重要用户", "shed load in order and keep vital users supplied")),
]

@dataclass(frozen=True)
class SensorType:
    code: str
    unit: str
    name: str
    name_en: str
    # Default rule: [blue, yellow, orange, red] (None = level unused), its clear
    # lines, direction, duration, and where the numbers come from.
    raise_at: tuple | None = None
    clear_at: tuple | None = None
    direction: str = "above"
    duration_s: int = 0
    silent_after_s: int | None = None
    source: str = ""
    assumed: str = ""


S = SensorType
SENSOR_TYPES: list[SensorType] = [
    S("rainfall_1h", "mm", "1小时降雨量", "1-hour rainfall", (16, 30, 50, 70), (12, 25, 45, 65),
      silent_after_s=900, source="GB/T 28592-2012: 16.0 mm in 1 h is a rainstorm (暴雨)",
      assumed="the yellow, orange and red lines above 16 mm/h and the clear lines"),
    S("displacement", "mm", "累计位移", "Cumulative displacement", (10, 30, 60, 100),
      (8, 25, 55, 95), duration_s=600, silent_after_s=1800,
      assumed="thresholds and the 10-minute duration; set them per slope from its survey"),
    S("crack_width", "mm", "裂缝宽度", "Crack width", (2, 5, 10, 20), silent_after_s=3600,
      assumed="thresholds"),
    S("settlement", "mm", "沉降", "Settlement", (10, 20, 30, 50), silent_after_s=3600,
      source="GB 50497-2019 gives alarm values per pit grade; these are a grade-2 pit's",
      assumed="the blue line and the mapping to levels"),
    S("tilt", "°", "倾斜", "Tilt", (0.5, 1.0, 2.0, 4.0), silent_after_s=3600,
      assumed="thresholds"),
    S("water_level", "m", "水位", "Water level", silent_after_s=900,
      assumed="no default: warning and guaranteed levels are per gauge; set a rule on the point"),
    S("water_depth", "cm", "积水深度", "Standing water depth", (15, 27, 40, 50), (10, 22, 35, 45),
      silent_after_s=900, source="GB 51222-2017: 15 cm of standing water on a road",
      assumed="the yellow (half a wheel), orange and red lines"),
    S("mud_level", "m", "泥位", "Mud level", (0.5, 1.0, 1.5, 2.0), silent_after_s=900,
      assumed="thresholds"),
    S("flow", "m³/s", "流量", "Flow", assumed="no default: per gauge"),
    S("seepage", "L/s", "渗流量", "Seepage", assumed="no default: per dam"),
    S("wind_speed", "m/s", "平均风速", "Mean wind speed", (10.8, 17.2, 24.5, 32.7),
      source="CMA gale signals: Beaufort 6, 8, 10 and 12 for blue, yellow, orange, red"),
    S("air_temperature", "°C", "气温", "Air temperature", (None, 35, 37, 40), (None, 34, 36, 39),
      source="CMA high-temperature signals: yellow 35 °C, orange 37 °C, red 40 °C",
      assumed="the clear lines; the signals also ask for 3 days at 35 °C for yellow"),
    S("visibility", "m", "能见度", "Visibility", (None, 500, 200, 50), (None, 600, 300, 80),
      direction="below", source="CMA fog signals: yellow under 500 m, orange 200 m, red 50 m",
      assumed="the clear lines"),
    S("road_temperature", "°C", "路面温度", "Road surface temperature", (2, 0, -2, -5),
      direction="below", assumed="thresholds"),
    S("fire_danger_index", "level", "森林火险等级", "Forest fire danger rating", (2, 3, 4, 5),
      source="GB/T 36743-2018: forest fire danger ratings 1–5",
      assumed="rating 2 as blue"),
    S("humidity", "%", "相对湿度", "Relative humidity", assumed="no default: used in compound rules"),
    S("gas_lel", "%LEL", "可燃气体浓度", "Flammable gas", (10, 25, 50, 75), (8, 20, 40, 60),
      silent_after_s=300,
      source="GB/T 50493-2019: first alarm at most 25 %LEL, second at most 50 %LEL",
      assumed="the blue and red lines"),
    S("tank_temperature", "°C", "储罐温度", "Tank temperature", assumed="no default: per tank"),
    S("tank_pressure", "MPa", "储罐压力", "Tank pressure", assumed="no default: per tank"),
    S("gas_pressure", "kPa", "燃气管网压力", "Gas main pressure", assumed="no default: per main"),
    S("strain", "µε", "应变", "Strain", assumed="no default: per bridge"),
    S("deflection", "mm", "挠度", "Deflection", assumed="no default: per span"),
    S("vibration", "mm/s", "振动", "Vibration", assumed="no default: per bridge"),
    S("smoke", "dB/m", "烟雾浓度", "Smoke obscuration", (None, None, 0.1, 0.2),
      assumed="thresholds"),
    S("fire_water_pressure", "MPa", "消防管网压力", "Fire main pressure", (0.15, 0.10, 0.07, 0.05),
      direction="below", source="GB 50974-2014: 0.15 MPa at the highest hydrant",
      assumed="the lower lines"),
    S("elevator_fault", "count", "电梯困人故障", "Elevator entrapments", (None, None, 1, None),
      assumed="one entrapment is orange"),
    S("pm25", "µg/m³", "PM2.5 浓度", "PM2.5", (115, 150, 250, 350),
      source="HJ 633-2012: PM2.5 24-h IAQI breakpoints 115, 150, 250, 350 (AQI 150–400)",
      assumed="readings taken as 24-hour means"),
    S("turbidity", "NTU", "浊度", "Turbidity", (3, 5, 10, 20), assumed="thresholds"),
    S("ammonia_nitrogen", "mg/L", "氨氮", "Ammonia nitrogen", (0.5, 1.0, 1.5, 2.0),
      source="GB 3838-2002: class II, III, IV and V limits"),
    S("people_density", "persons/m²", "人员密度", "Crowd density", (2, 3, 4, 5),
      assumed="thresholds"),
    S("seismic_intensity", "degree", "地震烈度", "Seismic intensity", (4, 5, 6, 7),
      source="GB/T 17742-2020 intensity scale", assumed="the mapping to levels"),
    S("line_temperature", "°C", "导线温度", "Conductor temperature", (60, 70, 80, 90),
      assumed="thresholds"),
    S("load_ratio", "%", "负载率", "Load ratio", (80, 90, 100, 110), assumed="thresholds"),
]


def measures_for(spec: CategorySpec) -> dict:
    watch, act = spec.watch, spec.act
    return {
        "1": {"zh": f"关注：{watch[0]}。", "en": f"Watch: {watch[1]}."},
        "2": {"zh": f"加密监测，责任人到岗：{watch[0]}。",
              "en": f"Monitor more often, responsible persons on duty: {watch[1]}."},
        "3": {"zh": f"做好撤离准备：{act[0]}。", "en": f"Prepare to evacuate: {act[1]}."},
        "4": {"zh": f"立即行动，启动应急响应：{act[0]}。",
              "en": f"Act now and start the emergency response: {act[1]}."},
    }


def catalogue_seed() -> tuple[int, int]:
    """Create the categories and the sensor types' default rules that are missing.
    Returns (categories created, rules created). Idempotent."""
    from zhili.warning.models import RiskCategory, Rule

    made_categories = made_rules = 0
    with transaction.atomic():
        for spec in CATEGORIES:
            _, created = RiskCategory.objects.get_or_create(code=spec.code, defaults=dict(
                name=spec.name, name_en=spec.name_en, cap_category=spec.cap_category,
                case_category=spec.case_category, sensor_types=list(spec.sensor_types),
                measures=measures_for(spec), source=spec.source))
            made_categories += created
        for sensor_type in SENSOR_TYPES:
            if sensor_type.raise_at is None:
                continue
            _, created = Rule.objects.get_or_create(
                sensor_type=sensor_type.code, category=None, risk_point=None,
                defaults=dict(name=f"{sensor_type.name_en} (default)",
                              raise_at=list(sensor_type.raise_at),
                              clear_at=list(sensor_type.clear_at) if sensor_type.clear_at else None,
                              direction=sensor_type.direction, duration_s=sensor_type.duration_s,
                              silent_after_s=sensor_type.silent_after_s))
            made_rules += created
    return made_categories, made_rules


SENSOR_TYPE_BY_CODE = {t.code: t for t in SENSOR_TYPES}
