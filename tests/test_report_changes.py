"""What changed between two reports: every number that differs, in the report's order."""

from projections.report_changes import Change, report_changes


def test_changes_are_the_numbers_that_differ_in_report_order() -> None:
    earlier = {
        "as_of": "2024-01-01T23:59:59.999999Z",
        "children": {"identified": 3, "reunified": 1, "remaining_by_status": {"informed": 1, "declined": 1}},
        "breakdowns": {"nationality": {"GT": {"identified": 3, "reunified": 1}, "RO": {"identified": 1, "reunified": 0}}},
        "obligations": {"first_outreach": {"met": 1, "overdue": 2, "median_days": 12}},
        "reunified_by_month": {},
    }
    later = {
        "as_of": "2024-06-01T23:59:59.999999Z",
        "children": {"identified": 5, "reunified": 1, "remaining_by_status": {"informed": 2, "declined": 1}},
        "breakdowns": {"nationality": {"GT": {"identified": 4, "reunified": 1}, "HN": {"identified": 1, "reunified": 0}}},
        "obligations": {"first_outreach": {"met": 2, "overdue": 2, "median_days": None}},
        "reunified_by_month": {"2024-03": 1},
    }
    changes = report_changes(earlier, later)
    assert changes == [
        Change("children", "identified", 3, 5),
        Change("children", "remaining_by_status.informed", 1, 2),
        Change("obligations", "first_outreach.met", 1, 2),
        Change("obligations", "first_outreach.median_days", 12, None),
        Change("breakdowns", "nationality.GT.identified", 3, 4),
        Change("breakdowns", "nationality.HN.identified", 0, 1),
        Change("breakdowns", "nationality.RO.identified", 1, 0),
        Change("reunified_by_month", "2024-03", 0, 1),
    ]
    assert [c.difference for c in changes] == [2, 1, 1, None, 1, 1, -1, 1]
    assert report_changes(later, later) == []
