// One spelling per instant, for comparing date-times as instants rather than as text.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An ISO 8601 date-time with `Z` or an offset (as the API takes it) in one spelling: in UTC with `Z`, the
 * fraction without trailing zeros, none when zero. "2026-01-01T01:00:00+01:00" and "2026-01-01T00:00:00.000Z"
 * both give "2026-01-01T00:00:00Z", which gives itself. Exact at any precision: the fraction stays text. Text of
 * another form comes back unchanged.
 */
export function canonicalInstant(text: string): string {
  const match = DATE_TIME.exec(text);
  if (!match) return text;
  const [, year, month, day, hour, minute, second = '00', fraction = '', sign, offsetHours, offsetMinutes] =
    match;
  const offset =
    sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  // Whole minutes through Date (setUTCFullYear: Date.UTC would take years 0-99 as 1900-1999).
  const utc = new Date(0);
  utc.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  utc.setUTCHours(Number(hour), Number(minute) - offset, 0, 0);
  const iso = utc.toISOString();
  const upToMinute = iso.slice(0, iso.indexOf('T') + 6);
  const digits = fraction.replace(/0+$/, '');
  return `${upToMinute}:${second}${digits === '' ? '' : `.${digits}`}Z`;
}
