# -*- Perl -*-
#
# bench/peers/mimedefang-filter.pl - the peer in complaint-milter's
# benchmark: the same job done the way a mail admin would script it in
# MIMEDefang (Debian package mimedefang, DBD::SQLite from
# libdbd-sqlite3-perl).
#
# For mail to complaints@example.com only (all other mail is left alone):
#   - the decoded text/plain parts (text/html with its tags stripped) are
#     searched with regexes for a service ticket, an inverter model and a
#     serial number in Dutch, English, German and French labels;
#   - a complaint with neither ticket nor model is bounced (550 5.7.1);
#   - otherwise the case is inserted into SQLite (WAL, synchronous=FULL:
#     durable before the mail is accepted) with the next number of the year,
#     the Subject gets the tag "[CASE-YYYY-NNNNNN] " and X-Case-ID and
#     X-Complaint-Kind headers are added.  A retry (same Message-ID and
#     sender) gets the case it already has.
#
# Started by bench/run.sh with
#   mimedefang-multiplexor -F bench/peers/mimedefang-filter.pl ...
# and the database path in the environment (CM_BENCH_MD_DB), the table
# created beforehand by run.sh (schema below, in $SCHEMA).  MIMEDefang runs
# this file in each of its Perl worker processes; each keeps one database
# connection.  MIMEDefang itself always receives the whole message, writes
# it to its spool directory and parses its MIME structure before
# filter_begin runs: that is part of the peer's cost, as in production.

use strict;
use warnings;
use DBI;
use Encode ();

our ($Subject, $Sender, $MessageID, @Recipients, $QueueID);

my $DB = $ENV{CM_BENCH_MD_DB} || '/var/spool/MIMEDefang/cases.sqlite';
my $dbh;
my $for_us;

our $SCHEMA = <<'SQL';
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    case_id TEXT UNIQUE NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    kind TEXT NOT NULL,
    tickets TEXT, models TEXT, serials TEXT,
    subject TEXT,
    received TEXT NOT NULL,
    UNIQUE (message_id, envelope_from),
    UNIQUE (year, seq)
);
SQL

# Labels and values, roughly what complaint-milter's rules/ know.
my $TICKET = qr{
    (?: \b(?:ticket|tiket|service[\s-]?ticket|servicenummer|servicemelding|meldingsnummer|
          ticketnummer|ticket[\s-]?(?:nr|no|number|nummer|num[ée]ro)|
          num[ée]ro\s+de\s+ticket|vorgangsnummer|referentie|reference|ref)\b
        [\s.:#]* (?:is|ist|est|:)? [\s.:#]* )
    ( [A-Z]{0,4}-?\d{5,9} )\b
}xi;
my $MODEL = qr{
    \b( SUN2000-\d+(?:\.\d+)?K(?:TL)?(?:-[A-Z0-9]+)* |      # Huawei
        SB\s?\d(?:\.\d)?-\d?AV-\d\d |                   # SMA Sunny Boy
        STP\s?\d+(?:\.\d)?-\d\d? |                      # SMA Tripower
        (?:Symo|Primo|Galvo)\s?\d+(?:\.\d+)?-\d(?:-[A-Z])? |  # Fronius
        GW\d{2,5}K?[A-Z]?-[A-Z]{1,4}\d* |               # GoodWe
        X[13]-(?:Hybrid|Boost|Mini|Fit)(?:-G\d)?-\d+(?:\.\d+)?[A-Z]? |  # Solax
        PLENTICORE\s+(?:plus|BI)\s+\d+(?:\.\d+)? |          # Kostal
        S\d-GR\dP\d+K(?:-[A-Z]+)? |                     # Solis
        IQ\d[A-Z+]*(?:-\d+-\d+-[A-Z]+)? |               # Enphase
        PIKO\s?(?:IQ\s?)?\d+(?:\.\d+)? |                # Kostal
        (?:MIN|MOD|MIC|SPH)\s?\d{3,5}\s?TL\d?-?[A-Z]*    # Growatt
    )\b
}xi;
my $MODEL_LABEL = qr{
    \b(?:model|type|typenummer|modell|mod[èe]le|omvormer(?:type)?|inverter|wechselrichter|onduleur)
    \b [^:\n]{0,30}: \s* ([A-Z0-9][A-Z0-9.\-\/ ]{2,30}[A-Z0-9])
}xi;
my $SERIAL = qr{
    \b(?:serie(?:n)?[\s-]?(?:nummers?|nummer|nr|no)|serial(?:[\s-]?(?:number|no|nr))?|
          s/n|sn|seriennummer|num[ée]ro\s+de\s+s[ée]rie)\b
    [^:\n\d]{0,30}[:#]?\s* ( [A-Z0-9](?:[A-Z0-9-]{2,38})[A-Z0-9] )\b
}xi;

sub db {
    return $dbh if $dbh;
    $dbh = DBI->connect("dbi:SQLite:dbname=$DB", '', '',
        { RaiseError => 1, AutoCommit => 1, PrintError => 0,
          sqlite_use_immediate_transaction => 1 });
    $dbh->sqlite_busy_timeout(10000);
    $dbh->do('PRAGMA journal_mode = WAL');
    $dbh->do('PRAGMA synchronous = FULL');
    return $dbh;
}

sub filter_initialize {
    db();
}

sub filter_cleanup {
    if ($dbh) { $dbh->disconnect; undef $dbh; }
    return 0;
}

# The customer's text: decoded text parts, HTML without its tags.
sub message_text {
    my ($entity) = @_;
    my $text = '';
    foreach my $part ($entity->parts_DFS) {
        my $type = lc($part->effective_type || 'text/plain');
        next unless $type eq 'text/plain' || $type eq 'text/html';
        my $disp = lc($part->head->mime_attr('content-disposition') || '');
        next if $disp eq 'attachment';
        my $body = $part->bodyhandle or next;
        my $t = $body->as_string;
        next unless defined $t;
        if ($type eq 'text/html') {
            $t =~ s{<(?:br|/p|/div|/tr|/li)[^>]*>}{\n}gi;
            $t =~ s{<[^>]*>}{ }g;
            $t =~ s{&nbsp;}{ }g;
            $t =~ s{&amp;}{&}g;
        }
        $text .= $t . "\n";
    }
    return $text;
}

sub uniq { my %s; return grep { !$s{uc $_}++ } @_; }

sub filter_begin {
    my ($entity) = @_;

    $for_us = grep { /<?complaints\@example\.com>?/i } @Recipients;
    return unless $for_us;

    my $subject = eval { Encode::decode('MIME-Header', $Subject // '') } // ($Subject // '');
    my $text = $subject . "\n" . message_text($entity);
    my @tickets = uniq($text =~ /$TICKET/g);
    my @models  = uniq($text =~ /$MODEL/g);
    push @models, uniq($text =~ /$MODEL_LABEL/g) unless @models;
    my @serials = uniq(grep { /\d{3}/ } ($text =~ /$SERIAL/g));
    my $kind = @tickets ? 'service' : 'product';

    if (!@tickets && !@models) {
        action_bounce('Your complaint lacks a service ticket number or the '
            . 'inverter model; please send it again with them', '550', '5.7.1');
        return;
    }

    my $db = db();
    my ($year) = (localtime)[5] + 1900;
    my $mid = $MessageID // '';
    my $case;
    eval {
        $db->begin_work;    # BEGIN IMMEDIATE
        ($case) = $db->selectrow_array(
            'SELECT case_id FROM cases WHERE message_id = ? AND envelope_from = ?',
            undef, $mid, $Sender);
        if (!$case) {
            my ($seq) = $db->selectrow_array(
                'SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?', undef, $year);
            $case = sprintf('CASE-%d-%06d', $year, $seq);
            $db->do('INSERT INTO cases (case_id, year, seq, message_id, envelope_from, '
                . 'kind, tickets, models, serials, subject, received) '
                . "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))", undef,
                $case, $year, $seq, $mid, $Sender, $kind, join(',', @tickets),
                join(",", @models), join(",", @serials), $subject);
        }
        $db->commit;
        1;
    } or do {
        my $err = $@ || 'unknown error';
        eval { $db->rollback };
        md_syslog('err', "complaint filter: $err");
        action_tempfail('Temporary problem recording your complaint; please try again later');
        return;
    };

    my $subj = $Subject // '';
    $subj = "[$case] $subj" unless $subj =~ /\[\Q$case\E\]/;
    action_change_header('Subject', $subj);
    action_add_header('X-Case-ID', $case);
    action_add_header('X-Complaint-Kind', $kind);
    action_add_header('X-Complaint-Model', join(', ', @models)) if @models;
    action_add_header('X-Complaint-Serial', join(', ', @serials)) if @serials;
}

sub filter {
    my ($entity, $fname, $ext, $type) = @_;
    return action_accept();
}

sub filter_end {
    my ($entity) = @_;
}

1;
