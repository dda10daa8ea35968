"""The kinds of reminder rows, and which of them are follow-ups a resident can turn off."""

WORKSHOP_REMINDER = "workshop_reminder"
FOLLOWUP_WORKSHOP = "followup_workshop"
FOLLOWUP_NO_SHOW = "followup_no_show"
FOLLOWUP_PROCEDURE = "followup_procedure"

FOLLOWUPS = frozenset({FOLLOWUP_WORKSHOP, FOLLOWUP_NO_SHOW, FOLLOWUP_PROCEDURE})
# Kinds whose text asks a question the resident answers (OUI / NON, a number).
ANSWERABLE = frozenset({WORKSHOP_REMINDER, FOLLOWUP_WORKSHOP, FOLLOWUP_NO_SHOW, FOLLOWUP_PROCEDURE})
