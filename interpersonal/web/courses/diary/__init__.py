"""The therapist's diary: booking a course's appointments as a series, rescheduling, cancelling
(NHS Talking Therapies attendance codes 2 and 4), marking attendance (5, 6, 3, 7), follow-up
after a missed appointment, a week view per therapist or room, and a private iCal feed.

Bookings are :class:`~interpersonal.web.courses.models.TherapySession` rows with no attendance
yet; recording one completes that row (courses.actions.record_session), never adds another.
Writers: :mod:`.actions`; the week's read model: :mod:`.week`; the feed's text: :mod:`.ical`.
"""
