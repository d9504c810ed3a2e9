"""Officials' appeal pages (included by appeals/urls.py, namespace ``appeals``; docs/endpoints.md).

The department inbox, the task-force board, statistics and their export, and the routing table.
"""

from django.urls import path

from gulian.appeals import views_officials, views_routing, views_stats

urlpatterns: list = [
    path("inbox/", views_officials.inbox, name="inbox"),
    path("board/", views_officials.board, name="board"),
    path("stats/", views_stats.stats_page, name="stats"),
    path("stats/export.xlsx", views_stats.stats_export, name="stats_export"),
    path("routing/", views_routing.routing_table, name="routing"),
    path("routing/departments/", views_routing.department_add, name="routing_department_add"),
]
