/** What a server holding a database recorded about itself, for the refusal of a second one. */
export interface DatabaseHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** Where it listens, once it does. */
  url?: string;
}

/**
 * A second server was started on a database that a live server holds. Both would re-queue
 * and hand out the same runs, so the second refuses before it reads or writes a row.
 */
export class DatabaseInUseError extends Error {
  override readonly name = "DatabaseInUseError";
  readonly path: string;
  readonly holder: DatabaseHolder | undefined;

  constructor(path: string, holder: DatabaseHolder | undefined, holderFile: string) {
    const who = holder
      ? `pid ${holder.pid} on ${holder.host}${holder.url ? `, listening on ${holder.url}` : ""}, started ${holder.startedAt}`
      : `its pid could not be read from ${holderFile}`;
    super(
      `the database ${path} is in use by another taskwire server (${who}); ` +
        "stop that server first, or give this one its own TASKWIRE_HOME or --database-url",
    );
    this.path = path;
    this.holder = holder;
  }
}
