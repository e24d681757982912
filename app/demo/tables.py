"""Tables behind the synthetic demo catalogue: industry mixes by terrain and county, supply, names."""

# The 26 industries the first migration seeds (code -> short Chinese name used in synthetic names).
INDUSTRIES: dict[str, str] = {
    "grain": "粮食", "oil_crops": "油料", "vegetables": "蔬菜", "tea": "茶叶", "fruit": "果树",
    "edible_fungi": "食用菌", "medicinal_herbs": "中药材", "sericulture": "蚕桑", "forestry": "林业",
    "pigs": "生猪", "cattle_sheep": "牛羊", "poultry": "家禽", "aquaculture": "水产", "apiculture": "蜂业",
    "veterinary": "动物防疫", "seeds_breeding": "种业", "plant_protection": "植保", "soil_fertility": "土肥",
    "machinery": "农机", "processing_storage": "农产品加工", "ecommerce": "农村电商", "rural_tourism": "乡村旅游",
    "agri_environment": "农业生态", "renewables": "农村能源", "digital_agriculture": "数字农业",
    "farm_management": "经营管理",
}

# --- where each township sits: terrain decides the base industry mix -------------------------------

MOUNTAIN_COUNTIES = {"341524", "341525"}  # 金寨县, 霍山县: 大别山区
MOUNTAIN_TOWNSHIPS = {  # 大别山 townships outside 金寨/霍山
    # 舒城: 晓天 山七 河棚 五显 汤池 庐镇 南港 高峰
    "341523101", "341523112", "341523113", "341523111", "341523114", "341523205", "341523108", "341523204",
    "341503104", "341503105", "341503203", "341503201", "341503202",  # 裕安: 独山 石婆店 西河口 青山 石板冲
    "341502104",  # 金安: 毛坦厂
}
HILL_TOWNSHIPS = {
    "341523107", "341523200", "341523103",  # 舒城: 舒茶 春秋 万佛湖
    "341502105", "341502103", "341502106",  # 金安: 东河口 张店 双河
    "341503100", "341503200",  # 裕安: 苏埠 单王
}
LAKE_TOWNSHIPS = {  # 霍邱 by 城西湖/城东湖 and the 淮河: aquaculture
    "341522204", "341522128", "341522102", "341522201", "341522104", "341522101", "341522500",
}
SHUCHENG = "341523"

Mix = dict[str, float]
GENERIC: Mix = {"plant_protection": 1, "soil_fertility": 1, "veterinary": 1, "machinery": 1, "farm_management": 1,
                "agri_environment": 1, "digital_agriculture": 0.5, "renewables": 0.5, "seeds_breeding": 0.5}
TERRAIN_MIX: dict[str, Mix] = {
    "mountain": {"tea": 20, "medicinal_herbs": 15, "edible_fungi": 10, "forestry": 12, "rural_tourism": 10,
                 "fruit": 4, "apiculture": 4, "cattle_sheep": 3, "poultry": 3, "ecommerce": 5,
                 "processing_storage": 5, "sericulture": 2, "pigs": 2, "aquaculture": 1},
    "hill": {"tea": 12, "grain": 10, "vegetables": 10, "fruit": 6, "cattle_sheep": 6, "forestry": 6,
             "rural_tourism": 5, "ecommerce": 5, "oil_crops": 5, "poultry": 5, "pigs": 4, "medicinal_herbs": 3,
             "edible_fungi": 3, "processing_storage": 4, "apiculture": 2},
    "plain": {"grain": 22, "oil_crops": 10, "vegetables": 12, "pigs": 8, "poultry": 7, "cattle_sheep": 4,
              "aquaculture": 6, "processing_storage": 6, "machinery": 4, "seeds_breeding": 4, "ecommerce": 3,
              "fruit": 2},
    "lake": {"aquaculture": 30, "grain": 15, "oil_crops": 5, "poultry": 8, "vegetables": 6, "processing_storage": 6,
             "agri_environment": 4, "pigs": 4, "machinery": 3, "ecommerce": 3},
    "urban": {"vegetables": 15, "ecommerce": 15, "processing_storage": 12, "farm_management": 10,
              "digital_agriculture": 8, "agri_environment": 8, "rural_tourism": 6, "fruit": 6, "renewables": 5,
              "poultry": 3},
}
COUNTY_BOOST: dict[str, Mix] = {
    # 金寨: 六安瓜片, 茯苓, 天堂寨, 猕猴桃
    "341524": {"edible_fungi": 1.4, "medicinal_herbs": 1.3, "rural_tourism": 1.4, "fruit": 1.5, "tea": 1.2},
    "341525": {"medicinal_herbs": 1.7, "tea": 1.3, "sericulture": 2.0, "forestry": 1.2},  # 霍山: 黄芽, 石斛
    "341522": {"grain": 1.2, "aquaculture": 1.3, "oil_crops": 1.2, "seeds_breeding": 1.5, "processing_storage": 1.3,
               "cattle_sheep": 1.2},  # 霍邱
    "341523": {"vegetables": 1.3, "tea": 1.1, "rural_tourism": 1.2, "processing_storage": 1.2},  # 舒城: 小兰花, 万佛湖
    "341504": {"forestry": 1.5, "processing_storage": 1.5, "aquaculture": 1.2},  # 叶集: timber processing
    "341502": {"vegetables": 1.4, "ecommerce": 1.5, "cattle_sheep": 1.4, "tea": 1.2, "digital_agriculture": 1.5,
               "fruit": 1.2},  # 金安
    "341503": {"grain": 1.2, "vegetables": 1.2, "cattle_sheep": 1.5, "ecommerce": 1.3, "tea": 1.2, "pigs": 1.2},  # 裕安
}
# Supply relative to demand: < 1 are the shortages the matcher has to live with, > 1 the well-staffed lines.
SUPPLY_FACTOR: Mix = {"medicinal_herbs": 0.4, "rural_tourism": 0.45, "aquaculture": 0.7, "grain": 1.3,
                      "vegetables": 1.2, "plant_protection": 1.6, "soil_fertility": 1.5, "machinery": 1.3}
RELATED: dict[str, list[str]] = {
    "tea": ["plant_protection", "processing_storage", "ecommerce"],
    "grain": ["seeds_breeding", "soil_fertility", "plant_protection", "machinery", "oil_crops"],
    "vegetables": ["plant_protection", "soil_fertility", "ecommerce", "edible_fungi"],
    "medicinal_herbs": ["forestry", "edible_fungi", "processing_storage"],
    "edible_fungi": ["forestry", "medicinal_herbs", "processing_storage"],
    "forestry": ["medicinal_herbs", "apiculture", "fruit", "agri_environment"],
    "rural_tourism": ["ecommerce", "farm_management", "fruit", "tea"],
    "pigs": ["veterinary", "agri_environment", "renewables"],
    "cattle_sheep": ["veterinary", "pigs", "farm_management"],
    "poultry": ["veterinary", "aquaculture", "pigs"],
    "aquaculture": ["poultry", "agri_environment", "processing_storage"],
    "oil_crops": ["grain", "soil_fertility", "machinery"],
    "fruit": ["plant_protection", "processing_storage", "ecommerce"],
    "sericulture": ["fruit", "forestry", "processing_storage"],
    "apiculture": ["forestry", "fruit", "ecommerce"],
    "veterinary": ["pigs", "cattle_sheep", "poultry"],
    "seeds_breeding": ["grain", "vegetables", "oil_crops"],
    "plant_protection": ["grain", "vegetables", "fruit", "tea"],
    "soil_fertility": ["grain", "vegetables", "agri_environment"],
    "machinery": ["grain", "oil_crops", "digital_agriculture"],
    "processing_storage": ["ecommerce", "tea", "grain"],
    "ecommerce": ["processing_storage", "farm_management", "digital_agriculture"],
    "agri_environment": ["renewables", "soil_fertility", "forestry"],
    "renewables": ["agri_environment", "pigs"],
    "digital_agriculture": ["ecommerce", "machinery", "farm_management"],
    "farm_management": ["ecommerce", "processing_storage", "rural_tourism"],
}

# --- synthetic people and organisations ---------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛段雷侯史陶贺顾毛郝龚邵万钱严武戴储")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力永健春晓海燕林峰云鹏飞志国俊波宁"
         "雪婷慧琳宇浩然晨阳凯鑫亮成斌丹梅新东旭振兴德贵福昌荣祥松柏青翠田禾丰庆锋欣怡佳思远博学")
BRANDS = ("绿源", "山泉", "皖西", "大别山", "云雾", "丰禾", "金穗", "兴农", "福康", "佳禾", "瑞丰", "同创", "青峰",
          "碧水", "润田", "沃土", "鑫农", "康源", "万家", "翠谷", "嘉禾", "金田", "泉润", "禾盛", "德丰", "山湾")
LEGAL_WORD = {"tea": "茶业", "medicinal_herbs": "中药材", "edible_fungi": "食用菌", "forestry": "林业",
              "rural_tourism": "生态旅游", "grain": "粮食", "oil_crops": "油料", "vegetables": "蔬菜",
              "aquaculture": "水产", "pigs": "生猪养殖", "poultry": "禽业", "cattle_sheep": "牧业",
              "processing_storage": "农产品", "ecommerce": "电子商务", "fruit": "果业", "apiculture": "蜂业",
              "seeds_breeding": "种业", "machinery": "农机", "sericulture": "蚕桑"}
PROVINCIAL_ORGS = (  # (name, type, region code, lon, lat)
    ("安徽农业大学", "university", "340104", 117.25, 31.86),
    ("安徽省农业科学院", "research_institute", "340104", 117.23, 31.89),
)
CITY_ORGS = (("皖西学院", "university"), ("六安市农业科学研究院", "research_institute"),
             ("六安市农业技术推广中心", "extension_station"))
GRADES = (("良好", 45), ("合格", 30), ("优秀", 15), (None, 7), ("不合格", 3))
TITLES = (("senior", 12), ("deputy_senior", 30), ("intermediate", 35), ("junior", 16), ("none", 7))
