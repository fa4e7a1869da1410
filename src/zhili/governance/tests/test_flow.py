"""The seed's loop end to end through the services: a resident reports a sagging
power line, the worker accepts and arrives, the street centre calls in the power
utility, the utility completes, the resident rates."""

from datetime import timedelta

from zhili.governance import services
from zhili.governance.models import CaseEvent, DepartmentTask, Level, Status
from zhili.notifications.models import Delivery


def test_the_seed_loop(report, resident, grid_worker, street_operator, department_officer):
    case = report(category="power-line-sagging", description="电线垂到二楼窗口",
                  attributes={"hazard": "low"})
    t0 = case.created_at
    assert case.status == Status.REPORTED and case.grid.code == "500103001001001"
    assert case.tracking_no.startswith("ZL") and case.due_at == t0 + timedelta(minutes=15)
    assert Delivery.objects.filter(message__object_id=str(case.pk), message__kind="case.assigned").exists()

    case = services.case_accept(actor=grid_worker, case=case, version=case.version,
                                now=t0 + timedelta(minutes=5))
    assert case.status == Status.ACCEPTED and case.assignee == grid_worker
    assert case.accept_on_time is True
    case = services.case_arrive(actor=grid_worker, case=case, version=case.version,
                                lon=case.lon, lat=case.lat, now=t0 + timedelta(minutes=40))
    assert case.status == Status.ON_SITE
    case = services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power",
                                              now=t0 + timedelta(minutes=50))
    assert case.status == Status.DISPATCHED
    task = DepartmentTask.objects.get(case=case)
    assert Delivery.objects.filter(user=department_officer, message__kind="task.assigned",
                                   message__object_id=str(case.pk)).exists()
    services.department_task_accept(actor=department_officer, task=task,
                                    now=t0 + timedelta(minutes=55))
    services.department_task_complete(actor=department_officer, task=task, note="已重新架设",
                                      now=t0 + timedelta(hours=4))
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.outcome == "fixed"
    assert case.resolved_level == Level.GRID and case.handling_minutes == 240
    case = services.case_rate(actor=resident, case=case, rating=5, comment="当天就修好了",
                              now=t0 + timedelta(hours=6))
    assert case.status == Status.CLOSED and case.rating == 5
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["reported", "assigned", "accepted", "arrived", "dispatched", "task_accepted",
                     "task_completed", "resolved", "rated", "closed"]
