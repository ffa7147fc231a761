"""What each hotline role may do with partners and their service orders.

:mod:`tracking.roles` gives the role groups these (``ROLE_PERMISSIONS``): case
officers and supervisors refer help requests and keep the service records;
supervisors also keep the list of partners and their trades, and run the
home-visit campaigns and the follow-up work they give partners.
"""

OFFICER = [
    ("partners", "view_partner"),
    ("partners", "view_trade"),
    ("partners", "view_serviceorder"),
    ("partners", "add_serviceorder"),
    ("partners", "change_serviceorder"),
    ("partners", "view_partnerflag"),
    ("partners", "add_visitoptout"),
    ("partners", "view_visitoptout"),
    ("partners", "view_communityvisit"),
    ("partners", "view_serviceteam"),
]

SUPERVISOR = [
    *OFFICER,
    ("partners", "add_partner"),
    ("partners", "change_partner"),
    ("partners", "add_trade"),
    ("partners", "change_trade"),
    # Home visits (入户回访) are the supervisors' campaigns.
    ("partners", "view_homevisitsample"),
    ("partners", "add_homevisitsample"),
    ("partners", "view_homevisit"),
    ("partners", "change_homevisit"),
    ("partners", "view_partnerfollowup"),
    ("partners", "add_partnerfollowup"),
    ("partners", "change_partnerfollowup"),
    ("partners", "add_communityvisit"),
    ("partners", "change_communityvisit"),
    ("partners", "add_serviceteam"),
    ("partners", "change_serviceteam"),
]

# Editors see the community visit days (their column lists them).
EDITOR = [
    ("partners", "view_communityvisit"),
    ("partners", "view_serviceteam"),
]

# Whoever may see a partner's contact (a phone, an address): staff who refer.
VIEW_CONTACT = "partners.view_partner"

# A partner's own login (optional): its own orders, to keep their records, and
# its own follow-up work from the home visits, to mark it done.
PARTNER = [
    ("wagtailadmin", "access_admin"),
    ("partners", "view_serviceorder"),
    ("partners", "change_serviceorder"),
    ("partners", "view_partnerfollowup"),
    ("partners", "change_partnerfollowup"),
]
