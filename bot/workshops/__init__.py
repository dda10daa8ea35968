"""Workshops (ateliers numériques): enrolment, waiting list, cancellation, French dates, iCalendar."""
