"""The web edge: the self-service portal (云门店) and the staff console (云柜面) — server-rendered
pages (Jinja2 + htmx) over the service layer; zh-CN by default with English, and 关爱版."""
