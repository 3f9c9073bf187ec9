-- Finding earlier cases by the same person (the escalation-risk score counts repeat petitions on the same matter).
CREATE INDEX reporters_contact ON reporters (contact);
