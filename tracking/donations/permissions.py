"""What each hotline role may do with donations.

Case officers and supervisors take offers, confirm the items that need it, match
them to help requests and record the hand-over. Nobody else sees donations: the
donor and the recipient are personal information. :mod:`tracking.roles` gives
the groups these lists (``ROLE_PERMISSIONS``); the migration
``donations/0002_roles`` syncs the groups once the models exist.
"""

OFFICER = [
    ("donations", "view_donationoffer"),
    ("donations", "add_donationoffer"),
    ("donations", "change_donationoffer"),
    ("donations", "confirm_donationoffer"),
    ("donations", "view_donationmatch"),
    ("donations", "view_donationconfirmation"),
    ("donations", "view_donationevent"),
]

SUPERVISOR = [*OFFICER]
