"""`saku simulate`'s canteen day: one school's morning top-ups, enrolments, lunch rush and an
offline wing, through the real processes, kiosks and sensors."""
