# complaints.sieve - file the mail of the complaints mailbox by what
# complaint-milter adds (doc/staff.md explains the headers).
#
# The milter removes X-Case-ID and X-Complaint-* headers that arrive from
# outside before it adds its own, so on mail that went through it they can
# be trusted.  The subject tag ([CASE-2026-000123]) also catches mail that
# did not pass the milter, such as a colleague's forwarded copy.
#
# Folder names use "/" as the hierarchy separator; with Dovecot's Maildir++
# default (separator ".") write "Complaints.Service" and so on.
# Tested by tests/cases-cli.sh with Dovecot's sieve-test.

require ["fileinto", "mailbox", "imap4flags", "regex"];

# Bounces and auto-replies sent to the complaints address.
if header :is "X-Complaint-Status" "auto-submitted" {
    fileinto :create "Complaints/Automatic";
    stop;
}

# One case you watch closely: everything about it, whatever the subject says.
# (Remove or change the case ID.)
if anyof (header :is "X-Case-ID" "CASE-2026-000042",
          header :contains "Subject" "[CASE-2026-000042]") {
    addflag "\\Flagged";
    fileinto :create "Complaints/Watched";
    stop;
}

# Everything that carries a case ID, by header or by subject tag.
if anyof (exists "X-Case-ID",
          header :regex "Subject" "\\[[A-Z]+-[0-9]{4}-([A-Z0-9]{1,4}-)?[0-9]{6,}(-[0-9A-Z])?\\]") {
    # Incomplete: someone has to ask the customer for what is missing.
    if header :contains "X-Complaint-Status" "incomplete" {
        addflag "\\Flagged";
        fileinto :create "Complaints/Incomplete";
        stop;
    }
    # The customer wrote again about an open case.
    if header :matches "X-Complaint-Status" "follow-up*" {
        fileinto :create "Complaints/Follow-ups";
        stop;
    }
    if header :is "X-Complaint-Kind" "service" {
        fileinto :create "Complaints/Service";
        stop;
    }
    if header :is "X-Complaint-Kind" "product" {
        fileinto :create "Complaints/Product";
        stop;
    }
    fileinto :create "Complaints/Other";
    stop;
}
