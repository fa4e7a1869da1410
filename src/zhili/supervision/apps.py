from zhili.core.plugins import ZhiliAppConfig


class SupervisionConfig(ZhiliAppConfig):
    name = "zhili.supervision"
    label = "supervision"
    verbose_name = "Supervision: figures, reports, problem lists"
