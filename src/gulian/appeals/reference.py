"""Default departments and routing table, loaded by migration 0002 (and again after a test flush)."""

DEPARTMENTS = [
    # code, 中文, English
    ("economy", "经信部门", "Economy and information technology"),
    ("transport", "交通运输部门", "Transport"),
    ("hrss", "人力社保部门", "Human resources and social security"),
    ("finance", "地方金融监管部门", "Financial regulation"),
    ("health", "卫生健康部门", "Health"),
    ("market", "市场监管部门", "Market regulation"),
    ("development", "发展改革部门", "Development and reform (energy)"),
    ("science", "科技部门", "Science and technology"),
    ("commerce", "商务部门", "Commerce"),
    ("treasury", "财政部门", "Finance (treasury)"),
]

# category -> department at every level from county to ministry; the State Council level is its task force's
ROUTES = {
    "logistics": "transport",
    "labour": "hrss",
    "finance": "finance",
    "supply": "economy",
    "epidemic": "economy",
    "permits": "market",
    "energy": "development",
    "technology": "science",
    "market": "commerce",
    "policy": "treasury",
    "other": "economy",
}
LEVELS = ["county", "city", "province", "ministry"]



def load_defaults(department_model, rule_model) -> None:
    """Create the default departments and routes that are missing (existing rows are left alone)."""
    by_code = {}
    for order, (code, name, name_en) in enumerate(DEPARTMENTS):
        by_code[code], _ = department_model.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )
    for category, dept in ROUTES.items():
        for level in LEVELS:
            rule_model.objects.get_or_create(category=category, level=level, defaults={"department": by_code[dept]})
