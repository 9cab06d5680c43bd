// drizzle-kit's entry: every area's tables.
export * from '../audit/audit.tables.js';
export * from '../contacts/contacts.tables.js';
export * from '../export/export.tables.js';
export * from '../files/files.tables.js';
export * from '../groups/groups.tables.js';
export * from '../idempotency/idempotency.tables.js';
export * from '../messages/messages.tables.js';
export * from '../notices/notices.tables.js';
export * from '../payments/payments.tables.js';
export * from '../ratelimits/ratelimits.tables.js';
export * from '../retention/retention.tables.js';
export * from '../users/users.tables.js';
