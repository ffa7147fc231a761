"""Msgids the project translates although Django or Wagtail owns them.

Wagtail 8.0.1's zh_Hans catalogue lacks these (or gets them wrong), and the names
the migrations store are translated here too. Nothing imports this module:
``makemessages`` finds the calls and keeps the msgids in ``locale/``, and since
``LOCALE_PATHS`` comes before every app's catalogue, the project's translation
replaces Wagtail's. Each comment says where the string shows. The msgids must be
Wagtail's exactly (placeholders, markup, trailing punctuation included).

Wagtail's JavaScript strings (autosave, content checks, the block editor) come
from its ``djangojs`` catalogue through ``/admin/jsi18n/``, a JavaScriptCatalog
that reads ``LOCALE_PATHS`` too: ``locale/zh_Hans/LC_MESSAGES/djangojs.po``
supplies the ones Wagtail lacks (``makemessages -d djangojs`` needs them in a
``.js`` file to keep them).
"""

# ruff: noqa: E501 -- a msgid stays one literal, to be found by grep as Wagtail has it

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_noop

# ngettext_lazy is the one plural marker makemessages reads that evaluates nothing
# until used; the module never uses them.

# wagtailadmin/base.html: the error summary's button
gettext_noop("Go to the first error")
# wagtailadmin/shared/unsaved_changes_warning.html
gettext_noop("Save your changes before leaving")
# wagtailadmin/home/site_summary_pages.html (dashboard)
ngettext_lazy(
    '%(total)s Page <span class="w-sr-only">created in %(site_name)s</span>',
    '%(total)s Pages <span class="w-sr-only">created in %(site_name)s</span>',
    1,
)
# wagtailimages/homepage/site_summary_images.html (dashboard)
ngettext_lazy(
    '%(total)s Image <span class="w-sr-only">created in %(site_name)s</span>',
    '%(total)s Images <span class="w-sr-only">created in %(site_name)s</span>',
    1,
)
# wagtaildocs/homepage/site_summary_documents.html (dashboard)
ngettext_lazy(
    '%(total)s Document <span class="w-sr-only">created in %(site_name)s</span>',
    '%(total)s Documents <span class="w-sr-only">created in %(site_name)s</span>',
    1,
)
# wagtailadmin_tags.py workflow_status (dashboard, page status)
gettext_noop("Sent to %(task_name)s %(started_at)s")
# wagtailadmin_tags.py workflow_status
gettext_noop("Changes requested %(finished_at)s")
# wagtailadmin/workflows/includes/workflow_tasks_cell.html
gettext_noop("Step %(step_number)s")
# admin/wagtail_hooks.py: the Pages menu; public pagination has its own context
gettext_noop("Pages")
# newsroom/templates: the pagination nav of columns and search
pgettext_noop("pagination", "Pages")
# wagtailadmin_tags.py timesince_last_update (status side panel)
gettext_noop("at %(time)s by %(user_display_name)s")
gettext_noop("%(time)s by %(user_display_name)s")
gettext_noop("%(time_period)s ago by %(user_display_name)s")
# wagtail/locks.py
gettext_noop("Locking: ")
gettext_noop(
    "Anyone can edit this %(model_name)s – lock it to prevent others from editing"
)
gettext_noop("Anyone can edit this %(model_name)s")
gettext_noop(
    "Reviewers can edit this %(model_name)s – lock it to prevent other reviewers from editing"
)
gettext_noop("Only reviewers can edit and approve the %(model_name)s")
gettext_noop("Only reviewers for this task can edit the %(model_name)s.")
gettext_noop("Locked by workflow")
gettext_noop("Locked by schedule")
gettext_noop("Currently locked and will go live on the scheduled date")
gettext_noop("No one can make changes while the %(model_name)s is locked")
gettext_noop("Only you can make changes while the %(model_name)s is locked")
gettext_noop("Only %(user)s can make changes while the %(model_name)s is locked")
gettext_noop("Locked by another user")
# side_panels/includes/status/usage
ngettext_lazy("Referenced %(count)s time", "Referenced %(count)s times", 1)
# admin/views/pages/listing.py: the explorer's title
gettext_noop("Exploring")
# pages/listing/_page_title_column_header.html
gettext_noop("%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s")
gettext_noop(
    "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s across entire site."
)
gettext_noop(
    "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s in '<span class=\"w-title-ellipsis\">%(title)s</span>'."
)
gettext_noop("No results across entire site.")
gettext_noop("No results in '<span class=\"w-title-ellipsis\">%(title)s</span>'.")
gettext_noop("Search in '<span class=\"w-title-ellipsis\">%(title)s</span>'")
# admin/views/pages/listing.py: explorer filters
gettext_noop("Date updated")
gettext_noop("Edited by")
gettext_noop("Has child pages")
gettext_noop("Page type")
gettext_noop("Any")
# admin/views/generic/models.py: breadcrumbs of a create view
gettext_noop("New: %(model_name)s")
# wagtail/admin/filters.py: the history filters
gettext_noop("Is commenting action")
# shared/autosave/indicator.html
gettext_noop("Saved")
gettext_noop("Autosave is paused")
gettext_noop("Autosave is <span>paused</span>")
gettext_noop("A network error occurred")
gettext_noop("View latest version")
gettext_noop(
    "Troubleshoot your connection to the site before proceeding. Open the editor in a separate tab to view the last saved version."
)
# userbar/item_content_checker.html; side_panels/checks.html
gettext_noop("Checks")
# side_panels/checks.html
gettext_noop("Content metrics")
gettext_noop("Words")
gettext_noop("Reading time")
gettext_noop("Readability")
gettext_noop("This data explained")
gettext_noop("How we calculate our metrics")
gettext_noop(
    "We extract the main content from the page preview, remove all formatting, and calculate the number of words."
)
gettext_noop(
    "We calculate reading time from word count, using different reading speeds for different languages."
)
gettext_noop(
    "We use a readability formula based on length of words and sentences. Long sentences and words result in a worse readability score."
)
gettext_noop(
    'See our <a href="%(guide_link)s" target="_blank">content checks guide</a> for more information on how content metrics are calculated.'
)
# side_panels/preview.html
gettext_noop(
    "Correct the validation errors to resume preview (saving will highlight errors)"
)
# side_panels/includes/status/publishing.html
gettext_noop("Choose when this page should go live and/or expire")
gettext_noop("Choose when this %(model_name)s should go live and/or expire")
# side_panels/includes/status/privacy.html
gettext_noop("Choose who can view the live version of this page")
# shared/_publishing_schedule (schedule dialog)
gettext_noop(
    'This publishing schedule will only take effect after you select the "Schedule to publish" option'
)
gettext_noop("Anyone with editing permissions can create schedules")
gettext_noop("But only those with publishing permissions can make them effective.")
# page edit action menu
gettext_noop("Schedule to publish")
# side_panels/includes/status/publishing.html
gettext_noop("%(model_name)s scheduled for publishing at %(go_live_at)s")
# shared/keyboard_shortcuts_dialog.html
gettext_noop("Section")
# wagtailadmin_tags.py keyboard_shortcuts_dialog
gettext_noop("Application")
gettext_noop("Show keyboard shortcuts")
gettext_noop("Toggle minimap")
gettext_noop("Close modal dialogs (like this one)")
gettext_noop("Save changes")
gettext_noop("Add or show comments")
gettext_noop("Text editing")
gettext_noop("Cut")
gettext_noop("Paste")
gettext_noop("Paste and match style")
gettext_noop("Paste without formatting")
gettext_noop("Text formatting")
gettext_noop("Strike-through")
gettext_noop("Monospace (code)")
gettext_noop("Insert or edit a link")
# shared/keyboard_shortcuts_dialog.html
gettext_noop(
    "Keyboard shortcuts are currently enabled; manage your %(account_link)s to disable them."
)
gettext_noop(
    "Keyboard shortcuts are currently disabled; manage your %(account_link)s to enable them."
)
# shared/keyboard_shortcuts_dialog.html: the link text in the two sentences above
gettext_noop("account")
# admin/forms/account.py
gettext_noop("Use server language: %(language_name)s")
# admin/views/account.py
gettext_noop("Theme preferences")
# wagtail/users/models.py UserProfile.theme
gettext_noop("admin theme")
# wagtail/users/models.py UserProfile.contrast
gettext_noop("contrast")
gettext_noop("More contrast")
# wagtail/users/models.py UserProfile.density
gettext_noop("density")
gettext_noop("Snug")
# wagtail/users/models.py UserProfile.keyboard_shortcuts
gettext_noop("Enable custom keyboard shortcuts specific to Wagtail.")
# newsroom/migrations/0010: a workflow's stored name
gettext_noop("Hot Tracking review")
gettext_noop("Editorial review")
# newsroom/migrations/0010: Wagtail's default workflow and its task
gettext_noop("Moderators approval")
# newsroom/migrations/0010: a task's stored name
gettext_noop("Editors write the story")
gettext_noop("Chief editor approval")
# newsroom/migrations/0010: Wagtail's moderators' group
gettext_noop("Moderators")
# newsroom/migrations/0010: the root page and root collection
gettext_noop("Root")
# tracking/roles.py: a role group's stored name
gettext_noop("Case officers")
gettext_noop("Supervisors")
gettext_noop("Department liaisons")
gettext_noop("Editors")
gettext_noop("Chief editors")
# wagtailadmin/skeleton.html: the notice shown when scripts are off
gettext_noop(
    "JavaScript is required to use Wagtail, but it is currently disabled.<br /> "
    'Here are the <a href="https://www.enable-javascript.com/" target="_blank" '
    'rel="noreferrer">instructions how to enable JavaScript in your web browser</a>.'
)
# wagtailadmin/home/account_summary.html (cms/templates overrides it)
gettext_noop("Wagtail %(current_version)s editor guide")
