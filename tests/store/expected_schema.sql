-- index _rowmeta_hub_seq
CREATE UNIQUE INDEX _rowmeta_hub_seq ON _rowmeta (hub_seq) WHERE hub_seq IS NOT NULL;
-- index _rowmeta_local_seq
CREATE INDEX _rowmeta_local_seq ON _rowmeta (local_seq) WHERE local_seq IS NOT NULL;
-- index idx__sqlite_migrations_migration_set_name
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- index idx_call_requests_status
CREATE INDEX idx_call_requests_status ON call_requests (status);
-- index idx_call_routes_call_id
CREATE INDEX idx_call_routes_call_id ON call_routes (call_id);
-- index idx_calls_counterparty_id
CREATE INDEX idx_calls_counterparty_id ON calls (counterparty_id);
-- index idx_calls_employee_id_state
CREATE INDEX idx_calls_employee_id_state ON calls (employee_id, state);
-- index idx_calls_phone_e164
CREATE INDEX idx_calls_phone_e164 ON calls (phone_e164);
-- index idx_calls_started_at
CREATE INDEX idx_calls_started_at ON calls (started_at);
-- index idx_calls_traffic_id
CREATE INDEX idx_calls_traffic_id ON calls (traffic_id);
-- index idx_cars_customer_id
CREATE INDEX idx_cars_customer_id ON cars (customer_id);
-- index idx_cars_owner_id
CREATE INDEX idx_cars_owner_id ON cars (owner_id);
-- index idx_cars_plate_key
CREATE INDEX idx_cars_plate_key ON cars (plate_key);
-- index idx_cars_trusted_person_id
CREATE INDEX idx_cars_trusted_person_id ON cars (trusted_person_id);
-- index idx_cars_vin
CREATE INDEX idx_cars_vin ON cars (vin);
-- index idx_contacts_counterparty_id
CREATE INDEX idx_contacts_counterparty_id ON contacts (counterparty_id);
-- index idx_contacts_email_key
CREATE INDEX idx_contacts_email_key ON contacts (email_key);
-- index idx_contacts_phone_e164
CREATE INDEX idx_contacts_phone_e164 ON contacts (phone_e164);
-- index idx_contacts_phone_rev
CREATE INDEX idx_contacts_phone_rev ON contacts (phone_rev);
-- index idx_counterparties_inn
CREATE INDEX idx_counterparties_inn ON counterparties (inn);
-- index idx_counterparties_name_key
CREATE INDEX idx_counterparties_name_key ON counterparties (name_key);
-- index idx_counterparty_lines_counterparty_id_business_line
CREATE INDEX idx_counterparty_lines_counterparty_id_business_line ON counterparty_lines (counterparty_id, business_line);
-- index idx_documents_car_id
CREATE INDEX idx_documents_car_id ON documents (car_id);
-- index idx_documents_counterparty_id_is_open
CREATE INDEX idx_documents_counterparty_id_is_open ON documents (counterparty_id, is_open);
-- index idx_documents_doc_date
CREATE INDEX idx_documents_doc_date ON documents (doc_date);
-- index idx_documents_status_at
CREATE INDEX idx_documents_status_at ON documents (status_at);
-- index idx_documents_visit_at
CREATE INDEX idx_documents_visit_at ON documents (visit_at);
-- index idx_lan_messages_employee_id_read_at
CREATE INDEX idx_lan_messages_employee_id_read_at ON lan_messages (employee_id, read_at);
-- index idx_lan_messages_node_id_read_at
CREATE INDEX idx_lan_messages_node_id_read_at ON lan_messages (node_id, read_at);
-- index idx_notify_addressees_message_id
CREATE INDEX idx_notify_addressees_message_id ON notify_addressees (message_id);
-- index idx_notify_addressees_status_next_attempt_at
CREATE INDEX idx_notify_addressees_status_next_attempt_at ON notify_addressees (status, next_attempt_at);
-- index idx_notify_attempts_addressee_id
CREATE INDEX idx_notify_attempts_addressee_id ON notify_attempts (addressee_id);
-- index idx_notify_messages_counterparty_id
CREATE INDEX idx_notify_messages_counterparty_id ON notify_messages (counterparty_id);
-- index idx_notify_messages_document_id
CREATE INDEX idx_notify_messages_document_id ON notify_messages (document_id);
-- index idx_notify_rules_template_id
CREATE INDEX idx_notify_rules_template_id ON notify_rules (template_id);
-- index idx_settings_key
CREATE INDEX idx_settings_key ON settings (key);
-- index idx_tasks_due_at
CREATE INDEX idx_tasks_due_at ON tasks (due_at);
-- index idx_tasks_employee_id_done_at
CREATE INDEX idx_tasks_employee_id_done_at ON tasks (employee_id, done_at);
-- index idx_traffic_contact_at
CREATE INDEX idx_traffic_contact_at ON traffic (contact_at);
-- index idx_traffic_counterparty_id
CREATE INDEX idx_traffic_counterparty_id ON traffic (counterparty_id);
-- index idx_traffic_events_traffic_id_at
CREATE INDEX idx_traffic_events_traffic_id_at ON traffic_events (traffic_id, at);
-- index idx_traffic_phone_e164
CREATE INDEX idx_traffic_phone_e164 ON traffic (phone_e164);
-- index idx_traffic_responsible_id_status
CREATE INDEX idx_traffic_responsible_id_status ON traffic (responsible_id, status);
-- index idx_traffic_status
CREATE INDEX idx_traffic_status ON traffic (status);
-- index idx_traffic_switches_traffic_id
CREATE INDEX idx_traffic_switches_traffic_id ON traffic_switches (traffic_id);
-- table _meta
CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- table _rowmeta
CREATE TABLE _rowmeta (
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  cl INTEGER NOT NULL,
  base TEXT NOT NULL,
  overrides TEXT NOT NULL DEFAULT '{}',
  local_seq INTEGER,
  hub_seq INTEGER,
  PRIMARY KEY (tbl, row_id)
) STRICT, WITHOUT ROWID;
-- table _sites
CREATE TABLE _sites (
  site_id TEXT PRIMARY KEY,
  acked_seq INTEGER NOT NULL DEFAULT 0,
  last_seen TEXT
) STRICT;
-- table branches
CREATE TABLE branches (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  address TEXT,
  region_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table call_requests
CREATE TABLE call_requests (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('dial', 'transfer', 'hangup')),
  employee_id TEXT,
  call_id TEXT,
  to_employee_id TEXT,
  phone TEXT NOT NULL DEFAULT '',
  counterparty_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  result TEXT NOT NULL DEFAULT '',
  done_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table call_routes
CREATE TABLE call_routes (
  id TEXT PRIMARY KEY NOT NULL,
  call_id TEXT NOT NULL,
  at TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  employee_id TEXT,
  reason TEXT NOT NULL,
  skipped TEXT NOT NULL DEFAULT '[]',
  outcome TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table calls
CREATE TABLE calls (
  id TEXT PRIMARY KEY NOT NULL,
  line_id TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  state TEXT NOT NULL CHECK (state IN ('incoming', 'menu', 'queued', 'ringing', 'dialing', 'talking', 'transferred', 'ended', 'missed')),
  sip_call_id TEXT NOT NULL DEFAULT '',
  caller_number TEXT NOT NULL DEFAULT '',
  caller_name TEXT NOT NULL DEFAULT '',
  phone_e164 TEXT,
  counterparty_id TEXT,
  department TEXT,
  purpose_id TEXT,
  menu_digits TEXT NOT NULL DEFAULT '',
  employee_id TEXT,
  extension TEXT NOT NULL DEFAULT '',
  traffic_id TEXT,
  recording TEXT NOT NULL DEFAULT '',
  codec TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL,
  menu_at TEXT,
  queued_at TEXT,
  ringing_at TEXT,
  answered_at TEXT,
  ended_at TEXT,
  talk_s INTEGER,
  end_reason TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table car_fts
CREATE VIRTUAL TABLE car_fts USING fts5(
  plate_key, vin, content='cars', content_rowid='rowid', tokenize='trigram');
-- table car_fts_config
CREATE TABLE 'car_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
-- table car_fts_data
CREATE TABLE 'car_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
-- table car_fts_docsize
CREATE TABLE 'car_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
-- table car_fts_idx
CREATE TABLE 'car_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
-- table cars
CREATE TABLE cars (
  id TEXT PRIMARY KEY NOT NULL,
  number INTEGER UNIQUE,
  plate TEXT NOT NULL DEFAULT '',
  plate_key TEXT NOT NULL DEFAULT '',
  vin TEXT NOT NULL DEFAULT '',
  year INTEGER,
  make TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  modification TEXT NOT NULL DEFAULT '',
  mileage INTEGER,
  warranty_start TEXT,
  note TEXT NOT NULL DEFAULT '',
  owner_id TEXT,
  customer_id TEXT,
  trusted_person_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table contact_purposes
CREATE TABLE contact_purposes (
  id TEXT PRIMARY KEY NOT NULL,
  code INTEGER,
  department TEXT NOT NULL CHECK (department IN ('service', 'salon', 'shop', 'feedback', 'other')),
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  full_name TEXT NOT NULL,
  short_name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  require_car INTEGER NOT NULL DEFAULT 0,
  require_region INTEGER NOT NULL DEFAULT 0,
  auto_ignore_days INTEGER,
  use_timesheet INTEGER NOT NULL DEFAULT 0,
  employee_ids TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, ring_s INTEGER) STRICT;
-- table contacts
CREATE TABLE contacts (
  id TEXT PRIMARY KEY NOT NULL,
  counterparty_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('phone', 'email')),
  value TEXT NOT NULL,
  phone_e164 TEXT,
  phone_rev TEXT,
  email_key TEXT,
  valid INTEGER NOT NULL DEFAULT 1,
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table counterparties
CREATE TABLE counterparties (
  id TEXT PRIMARY KEY NOT NULL,
  number INTEGER UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('person', 'company')),
  surname TEXT NOT NULL DEFAULT '',
  given_name TEXT NOT NULL DEFAULT '',
  patronymic TEXT NOT NULL DEFAULT '',
  company_name TEXT NOT NULL DEFAULT '',
  full_name TEXT NOT NULL,
  short_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  group_id TEXT,
  inn TEXT,
  note TEXT NOT NULL DEFAULT '',
  registered_at TEXT NOT NULL,
  birth_date TEXT,
  info_source_id TEXT,
  region_id TEXT,
  manager_id TEXT,
  consent_pd TEXT NOT NULL DEFAULT 'unknown' CHECK (consent_pd IN ('unknown', 'yes', 'no')),
  consent_phone_survey TEXT NOT NULL DEFAULT 'unknown' CHECK (consent_phone_survey IN ('unknown', 'yes', 'no')),
  consent_sms TEXT NOT NULL DEFAULT 'unknown' CHECK (consent_sms IN ('unknown', 'yes', 'no')),
  consent_email TEXT NOT NULL DEFAULT 'unknown' CHECK (consent_email IN ('unknown', 'yes', 'no')),
  last_in_contact_at TEXT,
  last_out_contact_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table counterparty_fts
CREATE VIRTUAL TABLE counterparty_fts USING fts5(
  name_key, content='counterparties', content_rowid='rowid',
  tokenize='unicode61 remove_diacritics 0', prefix='1 2 3');
-- table counterparty_fts_config
CREATE TABLE 'counterparty_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
-- table counterparty_fts_data
CREATE TABLE 'counterparty_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
-- table counterparty_fts_docsize
CREATE TABLE 'counterparty_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
-- table counterparty_fts_idx
CREATE TABLE 'counterparty_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
-- table counterparty_groups
CREATE TABLE counterparty_groups (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table counterparty_lines
CREATE TABLE counterparty_lines (
  id TEXT PRIMARY KEY NOT NULL,
  counterparty_id TEXT NOT NULL,
  business_line TEXT NOT NULL CHECK (business_line IN ('service', 'parts', 'sales')),
  crm_status TEXT NOT NULL DEFAULT 'unset',
  abc TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table documents
CREATE TABLE documents (
  id TEXT PRIMARY KEY NOT NULL,
  doc_no TEXT NOT NULL DEFAULT '',
  doc_type TEXT NOT NULL CHECK (doc_type IN ('work_order', 'pre_order', 'appointment', 'car_sale', 'parts_sale')),
  business_line TEXT NOT NULL CHECK (business_line IN ('service', 'parts', 'sales')),
  doc_date TEXT NOT NULL,
  amount_kop INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT '',
  is_open INTEGER NOT NULL DEFAULT 1,
  employee_id TEXT,
  counterparty_id TEXT,
  car_id TEXT,
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, visit_at TEXT, appointment_kind TEXT NOT NULL DEFAULT '', status_at TEXT) STRICT;
-- table employees
CREATE TABLE employees (
  id TEXT PRIMARY KEY NOT NULL,
  short_name TEXT NOT NULL,
  surname TEXT NOT NULL DEFAULT '',
  given_name TEXT NOT NULL DEFAULT '',
  patronymic TEXT NOT NULL DEFAULT '',
  extension TEXT,
  departments TEXT NOT NULL DEFAULT '[]',
  role TEXT NOT NULL DEFAULT 'staff',
  pin_hash TEXT,
  presence TEXT NOT NULL DEFAULT 'away' CHECK (presence IN ('available', 'busy', 'away')),
  presence_note TEXT NOT NULL DEFAULT '',
  branch_id TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, presence_at TEXT) STRICT;
-- table info_sources
CREATE TABLE info_sources (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table lan_messages
CREATE TABLE lan_messages (
  id TEXT PRIMARY KEY NOT NULL,
  employee_id TEXT,
  node_id TEXT,
  addressee_id TEXT,
  title TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL,
  read_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_addressees
CREATE TABLE notify_addressees (
  id TEXT PRIMARY KEY NOT NULL,
  message_id TEXT NOT NULL,
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('counterparty', 'employee', 'test')),
  recipient_id TEXT,
  recipient TEXT NOT NULL DEFAULT '',
  channel_kind TEXT NOT NULL CHECK (channel_kind IN ('email', 'sms', 'lan', 'file', 'ftp', 'phone')),
  channel_id TEXT,
  address TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'refused', 'expired')),
  not_before TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  next_attempt_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT,
  delivered_at TEXT,
  outcome TEXT NOT NULL DEFAULT '',
  info TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_attempts
CREATE TABLE notify_attempts (
  id TEXT PRIMARY KEY NOT NULL,
  addressee_id TEXT NOT NULL,
  at TEXT NOT NULL,
  outcome TEXT NOT NULL,
  info TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_channels
CREATE TABLE notify_channels (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('email', 'sms', 'lan', 'file', 'ftp', 'phone')),
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  settings TEXT NOT NULL DEFAULT '{}',
  secret_sealed TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_messages
CREATE TABLE notify_messages (
  id TEXT PRIMARY KEY NOT NULL,
  number INTEGER UNIQUE,
  category TEXT NOT NULL CHECK (category IN ('service', 'salon', 'warehouse', 'crm', 'general')),
  type TEXT NOT NULL,
  template_id TEXT,
  rule_id TEXT,
  document_id TEXT,
  counterparty_id TEXT,
  occasion TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_rules
CREATE TABLE notify_rules (
  id TEXT PRIMARY KEY NOT NULL,
  template_id TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('event', 'schedule')),
  event TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  calc_time TEXT,
  offset_minutes INTEGER NOT NULL DEFAULT 0,
  relevance_hours REAL NOT NULL DEFAULT 1,
  appointment_kinds TEXT NOT NULL DEFAULT '[]',
  statuses TEXT NOT NULL DEFAULT '[]',
  persons_only INTEGER NOT NULL DEFAULT 1,
  to_client INTEGER NOT NULL DEFAULT 1,
  employee_ids TEXT NOT NULL DEFAULT '[]',
  roles TEXT NOT NULL DEFAULT '[]',
  counterparty_ids TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table notify_templates
CREATE TABLE notify_templates (
  id TEXT PRIMARY KEY NOT NULL,
  category TEXT NOT NULL CHECK (category IN ('service', 'salon', 'warehouse', 'crm', 'general')),
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  channel_kind TEXT NOT NULL CHECK (channel_kind IN ('email', 'sms', 'lan', 'file', 'ftp', 'phone')),
  channel_id TEXT,
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  test_address TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table regions
CREATE TABLE regions (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table settings
CREATE TABLE settings (
  id TEXT PRIMARY KEY NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table sip_lines
CREATE TABLE sip_lines (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  server TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 5060,
  username TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('bridge', 'redirect', 'refer')),
  enabled INTEGER NOT NULL DEFAULT 1,
  menu TEXT NOT NULL DEFAULT '',
  ring_s INTEGER NOT NULL DEFAULT 20,
  state TEXT NOT NULL CHECK (state IN ('off', 'registering', 'registered', 'down')),
  state_since TEXT,
  state_detail TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table tasks
CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  employee_id TEXT,
  action TEXT NOT NULL DEFAULT 'call',
  due_at TEXT NOT NULL,
  counterparty_id TEXT,
  phone TEXT NOT NULL DEFAULT '',
  car_id TEXT,
  document_id TEXT,
  text TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  source_id TEXT,
  done_at TEXT,
  outcome TEXT NOT NULL DEFAULT '',
  confirmed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table traffic
CREATE TABLE traffic (
  id TEXT PRIMARY KEY NOT NULL,
  number INTEGER UNIQUE,
  contact_type TEXT NOT NULL CHECK (contact_type IN ('call', 'visit', 'internet')),
  department TEXT NOT NULL CHECK (department IN ('service', 'salon', 'shop', 'feedback', 'other')),
  purpose_id TEXT,
  first_contact INTEGER NOT NULL DEFAULT 1,
  info_source_id TEXT,
  branch_id TEXT,
  region_id TEXT,
  registered_by TEXT,
  contact_at TEXT NOT NULL,
  counterparty_id TEXT,
  phone TEXT NOT NULL DEFAULT '',
  phone_e164 TEXT,
  vin TEXT NOT NULL DEFAULT '',
  plate TEXT NOT NULL DEFAULT '',
  car_id TEXT,
  make_model TEXT NOT NULL DEFAULT '',
  responsible_id TEXT,
  processed_by TEXT,
  status TEXT NOT NULL CHECK (status IN ('new', 'in_work', 'document_created', 'document_attached', 'ignored', 'lost')),
  ignore_reason TEXT NOT NULL DEFAULT '',
  loss_reason TEXT NOT NULL DEFAULT '',
  document_id TEXT,
  duration_s INTEGER,
  note TEXT NOT NULL DEFAULT '',
  extra_info TEXT NOT NULL DEFAULT '',
  processed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
, queued_at TEXT, taken_at TEXT, origin TEXT NOT NULL DEFAULT 'desk') STRICT;
-- table traffic_events
CREATE TABLE traffic_events (
  id TEXT PRIMARY KEY NOT NULL,
  traffic_id TEXT NOT NULL,
  at TEXT NOT NULL,
  employee_id TEXT,
  action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- table traffic_switches
CREATE TABLE traffic_switches (
  id TEXT PRIMARY KEY NOT NULL,
  traffic_id TEXT NOT NULL,
  from_employee_id TEXT,
  to_employee_id TEXT,
  started_at TEXT NOT NULL,
  duration_s INTEGER,
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- trigger cars_fts_ad
CREATE TRIGGER cars_fts_ad AFTER DELETE ON cars BEGIN
  INSERT INTO car_fts(car_fts, rowid, plate_key, vin) VALUES ('delete', old.rowid, old.plate_key, old.vin);
END;
-- trigger cars_fts_ai
CREATE TRIGGER cars_fts_ai AFTER INSERT ON cars BEGIN
  INSERT INTO car_fts(rowid, plate_key, vin) VALUES (new.rowid, new.plate_key, new.vin);
END;
-- trigger cars_fts_au
CREATE TRIGGER cars_fts_au AFTER UPDATE OF plate_key, vin ON cars BEGIN
  INSERT INTO car_fts(car_fts, rowid, plate_key, vin) VALUES ('delete', old.rowid, old.plate_key, old.vin);
  INSERT INTO car_fts(rowid, plate_key, vin) VALUES (new.rowid, new.plate_key, new.vin);
END;
-- trigger counterparties_fts_ad
CREATE TRIGGER counterparties_fts_ad AFTER DELETE ON counterparties BEGIN
  INSERT INTO counterparty_fts(counterparty_fts, rowid, name_key) VALUES ('delete', old.rowid, old.name_key);
END;
-- trigger counterparties_fts_ai
CREATE TRIGGER counterparties_fts_ai AFTER INSERT ON counterparties BEGIN
  INSERT INTO counterparty_fts(rowid, name_key) VALUES (new.rowid, new.name_key);
END;
-- trigger counterparties_fts_au
CREATE TRIGGER counterparties_fts_au AFTER UPDATE OF name_key ON counterparties BEGIN
  INSERT INTO counterparty_fts(counterparty_fts, rowid, name_key) VALUES ('delete', old.rowid, old.name_key);
  INSERT INTO counterparty_fts(rowid, name_key) VALUES (new.rowid, new.name_key);
END;
