export { SqlitePersistence, openSqlitePersistence, type SqliteConfig } from './persistence.js';
