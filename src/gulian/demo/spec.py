"""What the demo province is made of: the ten chains, their segments, and the weights behind the numbers.

Plain data, no Django: the generator reads it, the docs describe it. The ten chains are the
"标志性产业链" of Zhejiang's 2020 plan; segments run upstream → downstream (``order`` 1 first),
each with the GB/T 4754 divisions its firms belong to and the products they sell (which become
the ``input_category`` of supply links). Chain leaders are titles only, never real names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentSpec:
    """One stage of a chain: name, GB/T 4754 divisions, products sold downstream, name words, firm weight."""

    name: str
    description: str
    industries: tuple[str, ...]
    products: tuple[str, ...]
    words: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class ChainSpec:
    """A provincial chain and its ordered segments.

    ``weight`` sets its share of Zhejiang's firms, ``foreign_bias`` scales its 境外 sourcing, and
    ``owner_segments`` lists the segment orders its chain owners (链主) come from.
    """

    code: str
    name: str
    leader: str
    description: str
    weight: float
    foreign_bias: float
    owner_segments: tuple[int, ...]
    segments: tuple[SegmentSpec, ...]


# Firm groups in the generated tables.
ZHEJIANG, OTHER_PROVINCE, FOREIGN = 0, 1, 2

S = SegmentSpec
CHAINS: tuple[ChainSpec, ...] = (
    ChainSpec("digital-security", "数字安防", "副省长（示范）", "视频感知、智能分析与系统集成", 0.08, 1.0, (3,), (
        S("芯片与元器件", "图像传感器、安防芯片与电子元器件", ("39",), ("图像传感器", "安防芯片", "电子元器件"),
          ("微电子", "电子科技", "半导体"), 3),
        S("光学与镜头", "光学镜头与红外模组", ("39", "40"), ("光学镜头", "红外模组", "光学元件"),
          ("光电", "光学科技", "光电技术"), 2),
        S("视频设备制造", "摄像机、录像机与门禁设备", ("39",), ("摄像机", "网络硬盘录像机", "门禁设备"),
          ("智能科技", "安防科技", "电子"), 2),
        S("软件与平台", "视频管理平台与算法", ("65",), ("视频管理平台", "算法授权", "云存储服务"),
          ("信息技术", "软件", "数字科技"), 1.5),
        S("系统集成与运营", "系统集成与运维服务", ("65",), ("系统集成服务", "运维服务"),
          ("智能系统", "信息工程", "数字技术"), 1.5),
    )),
    ChainSpec("integrated-circuit", "集成电路", "副省长（示范）", "设计、制造、封装测试与设备材料", 0.05, 2.0, (3, 2), (
        S("设备与材料", "硅片、光刻胶、电子特气、靶材与半导体设备", ("26", "35", "39"),
          ("硅片", "光刻胶", "电子特气", "溅射靶材", "半导体设备"), ("半导体材料", "新材料", "半导体装备"), 3),
        S("芯片设计", "集成电路设计与IP", ("65",), ("芯片设计服务", "IP授权"),
          ("微电子", "集成电路设计", "芯片科技"), 2),
        S("晶圆制造", "晶圆代工与特色工艺", ("39",), ("晶圆代工", "晶圆"), ("半导体", "集成电路", "微电子"), 1),
        S("封装测试", "封装、测试与封装基板", ("39",), ("封装服务", "测试服务", "封装基板"),
          ("封测科技", "半导体", "电子"), 1.5),
        S("终端应用", "模组与电子整机", ("39",), ("电子模组", "电子整机"), ("电子科技", "智能科技", "电子"), 2.5),
    )),
    ChainSpec("network-communication", "网络通信", "副省长（示范）", "光纤光缆、光电器件与通信设备", 0.06, 1.3, (3,), (
        S("光纤与基础材料", "光纤预制棒、光缆与覆铜板", ("38", "26"), ("光纤预制棒", "光纤光缆", "覆铜板"),
          ("光纤", "线缆", "新材料"), 2),
        S("光电器件与模块", "光模块、射频器件与连接器", ("39",), ("光模块", "射频器件", "连接器"),
          ("光电", "通信器件", "电子"), 3),
        S("通信设备制造", "基站、交换与终端设备", ("39",), ("基站设备", "交换机", "路由器", "通信终端"),
          ("通信技术", "网络科技", "通讯设备"), 2),
        S("网络建设与运营", "网络工程与通信服务", ("63", "65"), ("网络建设", "通信服务"),
          ("通信工程", "网络技术", "信息服务"), 1.5),
    )),
    ChainSpec("intelligent-computing", "智能计算", "副省长（示范）", "芯片、服务器、基础软件与算力服务", 0.05, 1.6, (2, 3), (
        S("芯片与存储", "处理器、存储芯片与内存", ("39",), ("处理器", "存储芯片", "内存模组"),
          ("芯片科技", "存储科技", "电子"), 2),
        S("服务器与整机", "服务器、主板与电源", ("39",), ("服务器", "主板", "服务器电源"),
          ("计算机", "信息产业", "电子科技"), 2),
        S("基础软件与平台", "操作系统、数据库与云平台", ("65",), ("操作系统", "数据库", "云平台"),
          ("软件", "云计算", "信息技术"), 2),
        S("算力服务与应用", "算力服务与人工智能应用", ("65",), ("算力服务", "人工智能应用"),
          ("数据科技", "智能科技", "人工智能"), 2),
    )),
    ChainSpec("biomedicine", "生物医药", "副省长（示范）", "原料药、制剂、生物药与医疗器械", 0.09, 1.3, (3, 4), (
        S("原料药与中间体", "原料药、医药中间体与辅料", ("27", "26"), ("原料药", "医药中间体", "药用辅料"),
          ("药业", "化学", "生物化工"), 3),
        S("制药装备与耗材", "制药设备、包装材料与一次性耗材", ("35", "29"), ("制药设备", "药用包装材料", "一次性耗材"),
          ("制药机械", "医用材料", "包装"), 2),
        S("制剂与生物药", "化学制剂、生物制剂与中成药", ("27",), ("化学制剂", "生物制剂", "中成药"),
          ("制药", "生物医药", "药业"), 2),
        S("医疗器械", "医疗设备、诊断试剂与医用耗材", ("35",), ("医疗设备", "诊断试剂", "医用耗材"),
          ("医疗器械", "医疗科技", "生物科技"), 2),
        S("医药流通", "药品与器械配送", ("51",), ("药品配送",), ("医药", "医药贸易", "医药物流"), 1),
    )),
    ChainSpec("petrochemical-materials", "炼化一体化与新材料", "副省长（示范）", "炼油芳烃、基础化工、合成材料与化纤",
              0.11, 1.5, (1, 2, 4), (
        S("炼油与芳烃", "原油加工、石脑油与芳烃", ("25",), ("原油", "石脑油", "对二甲苯", "成品油"),
          ("石化", "石油化工", "能源"), 0.6),
        S("基础化工原料", "烯烃与基础化学品", ("26",), ("乙烯", "丙烯", "精对苯二甲酸", "基础化学品"),
          ("化工", "化学", "石化"), 2),
        S("合成材料", "合成树脂、合成橡胶与聚酯切片", ("26", "28"), ("合成树脂", "合成橡胶", "聚酯切片"),
          ("新材料", "高分子材料", "化学"), 2),
        S("化纤与新材料", "化学纤维、特种纤维与电子化学品", ("28", "26"), ("涤纶长丝", "锦纶切片", "特种纤维", "电子化学品"),
          ("化纤", "新材料", "纤维"), 2),
        S("塑料与橡胶制品", "塑料、橡胶制品与薄膜", ("29",), ("塑料制品", "橡胶制品", "功能薄膜"),
          ("塑业", "橡塑制品", "塑胶"), 3),
    )),
    ChainSpec("new-energy-vehicles", "节能与新能源汽车", "副省长（示范）", "电池材料、三电系统、零部件与整车", 0.14, 0.9, (4, 2), (
        S("电池材料与基础材料", "正负极材料、电解液与轻量化材料", ("26", "32"),
          ("正极材料", "负极材料", "电解液", "铝合金型材"), ("锂电材料", "新材料", "金属材料"), 2),
        S("三电系统", "动力电池、驱动电机与电控", ("38",), ("动力电池", "驱动电机", "电控系统"),
          ("新能源科技", "电池", "电机"), 1.5),
        S("汽车零部件", "底盘、车身、内饰与汽车电子", ("36",), ("底盘部件", "车身部件", "内饰件", "汽车电子"),
          ("汽车零部件", "汽配", "汽车部件"), 5),
        S("整车制造", "乘用车、商用车与专用车", ("36",), ("整车",), ("汽车", "新能源汽车", "汽车工业"), 0.5),
        S("充电与后市场", "充电设施、销售与服务", ("38", "51"), ("充电设施", "汽车销售服务"),
          ("充电科技", "汽车销售", "汽车服务"), 1),
    )),
    ChainSpec("intelligent-equipment", "智能装备", "副省长（示范）", "基础零部件、控制系统、整机装备与系统集成", 0.16, 0.9, (3,), (
        S("基础零部件", "轴承、齿轮、液压件、紧固件与铸锻件", ("34", "33"),
          ("轴承", "齿轮", "液压件", "紧固件", "铸锻件"), ("机械", "精密机械", "轴承"), 5),
        S("控制系统与传感器", "伺服、控制器、传感器与减速器", ("40", "39"), ("伺服系统", "控制器", "传感器", "减速器"),
          ("自动化", "控制技术", "仪器仪表"), 2),
        S("整机装备", "数控机床、工业机器人与专用设备", ("34", "35"), ("数控机床", "工业机器人", "专用设备"),
          ("智能装备", "机床", "机器人"), 2.5),
        S("系统集成与服务", "产线集成与工业软件", ("35", "65"), ("产线集成", "工业软件"),
          ("智能制造", "工业技术", "自动化工程"), 1),
    )),
    ChainSpec("smart-home", "智能家居", "副省长（示范）", "家电核心部件、智能家电与家居", 0.12, 0.5, (3,), (
        S("材料与元器件", "塑料粒子、钣金件与电子元器件", ("29", "33", "39"), ("塑料粒子", "钣金件", "电子元器件"),
          ("电子", "电器配件", "新材料"), 3),
        S("核心部件", "压缩机、控制板与电机组件", ("38", "34"), ("压缩机", "控制板", "电机组件"),
          ("电器", "电机", "智能控制"), 2),
        S("智能家电整机", "家用电器、厨房电器与照明", ("38",), ("家用电器", "厨房电器", "照明器具"),
          ("电器", "智能家居", "家电"), 2),
        S("家居与家具", "智能家具、卫浴与门窗", ("21",), ("智能家具", "卫浴洁具", "门窗"), ("家居", "家具", "卫浴"), 2),
        S("渠道与服务", "销售与安装服务", ("51",), ("家居销售",), ("家居贸易", "电器销售", "家居服务"), 1),
    )),
    ChainSpec("textile-apparel", "现代纺织和服装", "副省长（示范）", "化纤原料、纺纱织造、印染与服装", 0.14, 0.5, (1, 2, 4), (
        S("化纤与原料", "涤纶、锦纶与棉纱", ("28",), ("涤纶长丝", "锦纶丝", "棉纱"), ("化纤", "纤维", "纺织原料"), 1.5),
        S("纺纱织造", "纱线、坯布与针织面料", ("17",), ("纱线", "坯布", "针织面料"), ("纺织", "织造", "针织"), 4),
        S("印染与后整理", "染整加工、印花与助剂", ("17",), ("染整加工", "印花面料", "印染助剂"),
          ("印染", "染整", "纺织科技"), 2),
        S("服装服饰", "服装、家纺与辅料", ("18",), ("服装", "家纺制品", "服饰辅料"), ("服饰", "服装", "制衣"), 3),
        S("品牌与商贸", "服装批发与面料贸易", ("51",), ("服装批发", "面料贸易"), ("纺织品", "服饰贸易", "轻纺"), 1),
    )),
)
del S

# Which other chains a chain buys from (cross-chain links), with weights.
CROSS_CHAIN: dict[str, dict[str, float]] = {
    "digital-security": {"integrated-circuit": 3, "network-communication": 1, "intelligent-computing": 1,
                         "intelligent-equipment": 0.5},
    "integrated-circuit": {"petrochemical-materials": 1, "intelligent-equipment": 1},
    "network-communication": {"integrated-circuit": 2, "petrochemical-materials": 0.5},
    "intelligent-computing": {"integrated-circuit": 3, "network-communication": 1},
    "biomedicine": {"petrochemical-materials": 2, "intelligent-equipment": 1},
    "petrochemical-materials": {"intelligent-equipment": 1},
    "new-energy-vehicles": {"integrated-circuit": 1.5, "petrochemical-materials": 2, "intelligent-equipment": 1.5},
    "intelligent-equipment": {"integrated-circuit": 1, "petrochemical-materials": 0.5},
    "smart-home": {"petrochemical-materials": 2, "integrated-circuit": 1, "intelligent-equipment": 0.5,
                   "textile-apparel": 0.3},
    "textile-apparel": {"petrochemical-materials": 3, "intelligent-equipment": 1},
}
CROSS_CHAIN_SHARE = 0.2

# Zhejiang's 11 prefectures: relative number of firms, telephone area code, and chains they lean to.
PREFECTURE_WEIGHT = {
    "3301": 18, "3302": 16, "3303": 12, "3304": 10, "3305": 6, "3306": 10,
    "3307": 9, "3308": 3, "3309": 2, "3310": 10, "3311": 3,
}
AREA_CODE = {
    "3301": "0571", "3302": "0574", "3303": "0577", "3304": "0573", "3305": "0572", "3306": "0575",
    "3307": "0579", "3308": "0570", "3309": "0580", "3310": "0576", "3311": "0578",
}
PREFECTURE_CHAIN_BOOST: dict[str, dict[str, float]] = {
    "3301": {"digital-security": 3, "integrated-circuit": 2, "network-communication": 2,
             "intelligent-computing": 3, "biomedicine": 1.5},
    "3302": {"petrochemical-materials": 2.5, "new-energy-vehicles": 2, "smart-home": 1.8, "intelligent-equipment": 1.3},
    "3303": {"intelligent-equipment": 1.5, "new-energy-vehicles": 1.3, "textile-apparel": 1.3},
    "3304": {"textile-apparel": 1.8, "petrochemical-materials": 1.5, "integrated-circuit": 1.3},
    "3305": {"textile-apparel": 1.5, "smart-home": 1.8, "new-energy-vehicles": 1.3},
    "3306": {"textile-apparel": 3, "integrated-circuit": 1.5, "biomedicine": 1.3},
    "3307": {"new-energy-vehicles": 1.5, "textile-apparel": 1.2, "smart-home": 1.3},
    "3308": {"petrochemical-materials": 2},
    "3309": {"petrochemical-materials": 4},
    "3310": {"biomedicine": 2, "new-energy-vehicles": 1.5, "intelligent-equipment": 1.5},
    "3311": {"intelligent-equipment": 1.3},
}

# Out-of-province suppliers: provinces by weight (GB/T 2260 province prefix).
OTHER_PROVINCES = {"32": 30, "31": 20, "44": 16, "34": 8, "37": 7, "35": 5, "11": 4, "42": 3, "51": 3, "12": 2, "36": 2}
OUT_OF_PROVINCE_SHARE = 0.15  # of the Zhejiang count
FOREIGN_SHARE = 0.02  # of the Zhejiang count, Taiwan included
TAIWAN = "710000"  # 境外 by region (derive_scope), domestic by country code
TAIWAN_WEIGHT = 10

# (weight, 中文 name, cities, name stems, company suffixes) per ISO 3166 country.
COUNTRIES: dict[str, tuple[float, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "JP": (28, "日本", ("东京", "大阪", "名古屋", "京都"),
           ("Tokai", "Kansai", "Nippon", "Shinwa", "Daiichi", "Sanko", "Asahi", "Fujimi", "Hokuriku", "Chubu"),
           ("Co., Ltd.", "Corporation")),
    "KR": (14, "韩国", ("首尔", "水原", "仁川"), ("Hanil", "Daehan", "Seoul", "Samil", "Kumho", "Hanbit"),
           ("Co., Ltd.", "Corp.")),
    "DE": (14, "德国", ("慕尼黑", "斯图加特", "德累斯顿"),
           ("Rhein", "Bayern", "Schwarzwald", "Elbe", "Nordwerk", "Sudwerk"), ("GmbH", "AG")),
    "US": (14, "美国", ("加州圣何塞", "得克萨斯州奥斯汀", "亚利桑那州凤凰城"),
           ("Pacific", "Summit", "Liberty", "Cascade", "Lakeside", "Frontier"), ("Inc.", "Corp.")),
    "NL": (4, "荷兰", ("埃因霍温", "费尔德霍芬"), ("Oranje", "Delta", "Polder"), ("B.V.", "N.V.")),
    "FR": (4, "法国", ("巴黎", "里昂"), ("Lumiere", "Rhone", "Loire"), ("S.A.", "SAS")),
    "CH": (3, "瑞士", ("巴塞尔", "苏黎世"), ("Alpen", "Helvetia", "Jura"), ("AG", "SA")),
    "SG": (4, "新加坡", ("新加坡",), ("Merlion", "Straits", "Jurong"), ("Pte. Ltd.",)),
    "IT": (3, "意大利", ("米兰", "都灵"), ("Padana", "Lombarda", "Adriatica"), ("S.p.A.", "S.r.l.")),
    "GB": (3, "英国", ("剑桥", "伦敦"), ("Thames", "Pennine", "Albion"), ("Ltd", "plc")),
    "MY": (2, "马来西亚", ("槟城", "吉隆坡"), ("Penang", "Selangor", "Melaka"), ("Sdn. Bhd.",)),
    "TH": (2, "泰国", ("曼谷", "罗勇"), ("Siam", "Chao Phraya", "Rayong"), ("Co., Ltd.", "Public Co., Ltd.")),
}
# English words for foreign suppliers' names, by GB/T 4754 division.
FOREIGN_WORDS: dict[str, tuple[str, ...]] = {
    "17": ("Textiles", "Fibers", "Weaving"), "18": ("Apparel", "Garments", "Fashion"), "21": ("Furniture", "Home"),
    "25": ("Petroleum", "Refining", "Energy"), "26": ("Chemical", "Materials", "Specialty Chemicals"),
    "27": ("Pharma", "Life Sciences", "Biologics"), "28": ("Fibers", "Polymers", "Synthetics"),
    "29": ("Polymers", "Plastics", "Rubber"), "32": ("Metals", "Alloys"), "33": ("Metal Works", "Stamping"),
    "34": ("Machinery", "Precision", "Bearings"), "35": ("Equipment", "Instruments", "Medical Systems"),
    "36": ("Automotive", "Auto Parts"), "38": ("Electric", "Motors", "Energy Systems"),
    "39": ("Electronics", "Semiconductor", "Devices", "Optics", "Components"),
    "40": ("Instruments", "Sensors", "Controls"), "51": ("Trading",), "63": ("Networks", "Telecom"),
    "65": ("Software", "Design", "Systems"),
}

# Supply-link location mix (市内, 省内, 省外, 境外) before the per-chain foreign bias.
SCOPE_MIX = (0.41, 0.27, 0.265, 0.055)
SCOPES = ("city", "province", "domestic", "foreign")
# By scope: lead time median (days), customer inventory mean (days), chance an alternative is known.
LEAD_TIME_MEDIAN = (2.0, 4.0, 7.0, 35.0)
INVENTORY_MEAN = (6.0, 9.0, 14.0, 32.0)
ALTERNATIVES_P = (0.75, 0.62, 0.48, 0.22)

# Chain owners and core suppliers per chain, per this many Zhejiang firms (at least 2 and 3).
OWNER_PER_FIRMS = 1300
CORE_PER_FIRMS = 500
