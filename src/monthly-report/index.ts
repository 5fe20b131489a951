/**
 * The monthly report's public entry: the module (and a factory for one with other schedule
 * settings), generation without HTTP (the CLI) and the schedule. Response shapes are in schemas.ts.
 */
export { default as monthlyReportModule, createMonthlyReportModule, type MonthlyReportModuleOptions } from './module.js';
export { checkMonth, generateMonthlyReport, monthlyReportFile, previousMonth, scheduledStep, type MonthlyReportDeps } from './service.js';
export { loadReportSources, type ReportSources } from './report.js';
export { MonthlyReportSchedule, MONTHLY_REPORT_POLL_MS } from './schedule.js';
export { registerMonthlyReportCommand } from './command.js';
