"""Which pages each role sees (``app.py`` builds ``st.navigation`` from this table).

Every page also checks the role itself at its top (``state.require``), so a URL typed by
hand never shows a page the role may not see.
"""

from __future__ import annotations

INSTRUCTOR_SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "Cohort": [
        ("cohort.py", "Cohort", ":material/groups:"),
        ("trainee_detail.py", "Trainee detail", ":material/person_search:"),
        ("calibration_manage.py", "Calibration sessions", ":material/balance:"),
        ("reviews.py", "Justification reviews", ":material/rate_review:"),
        ("disputes.py", "Disputes", ":material/gavel:"),
    ],
    "Content": [
        ("items.py", "Item analytics", ":material/analytics:"),
        ("gold.py", "Gold building", ":material/how_to_vote:"),
        ("learn.py", "Lessons", ":material/menu_book:"),
    ],
}

# role -> sections of (file, title, icon); None is the anonymous visitor.
ROLE_PAGES: dict[str | None, dict[str, list[tuple[str, str, str]]]] = {
    None: {
        "": [
            ("login.py", "Log in", ":material/login:"),
            ("verify.py", "Verify a credential", ":material/verified:"),
        ],
    },
    "trainee": {
        "Learn": [
            ("home.py", "Home", ":material/home:"),
            ("learn.py", "Lessons", ":material/menu_book:"),
            ("practice.py", "Practice", ":material/edit_note:"),
            ("dashboard.py", "My agreement", ":material/monitoring:"),
            ("exam.py", "Exams", ":material/quiz:"),
            ("calibration.py", "Calibration", ":material/balance:"),
        ],
        "Certify": [
            ("my_credentials.py", "My credentials", ":material/workspace_premium:"),
        ],
        "Account": [
            ("account.py", "Account", ":material/person:"),
            ("verify.py", "Verify a credential", ":material/verified:"),
        ],
    },
    "instructor": {
        **INSTRUCTOR_SECTIONS,
        "Account": [
            ("account.py", "Account", ":material/person:"),
            ("verify.py", "Verify a credential", ":material/verified:"),
        ],
    },
    "admin": {
        "Administration": [
            ("admin_users.py", "Users", ":material/group:"),
            ("admin_audit.py", "Audit log", ":material/policy:"),
            ("admin_credentials.py", "Credentials", ":material/workspace_premium:"),
            ("admin_content.py", "Content bank", ":material/inventory_2:"),
        ],
        # Admins may do everything instructors do.
        "Cohort": INSTRUCTOR_SECTIONS["Cohort"],
        "Content": INSTRUCTOR_SECTIONS["Content"],
        "Account": [
            ("account.py", "Account", ":material/person:"),
            ("verify.py", "Verify a credential", ":material/verified:"),
        ],
    },
}


def pages_for(role: str | None) -> set[str]:
    return {file for pages in ROLE_PAGES[role].values() for file, _, _ in pages}
