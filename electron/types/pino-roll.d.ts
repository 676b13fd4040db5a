/** Types for pino-roll, which ships none: the options this app uses and the stream it returns. */
declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';

  /** pino-roll's options (a subset; the rest go to SonicBoom). */
  interface PinoRollOptions {
    /** Base path; the roll number and `extension` are appended. */
    file: string;
    /** Largest size of one file, e.g. `5m`. */
    size?: string | number;
    frequency?: string | number;
    extension?: string;
    /** How many rolled files to keep besides the current one. */
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    sync?: boolean;
  }

  /** Opens the current file (continuing the numbering found in the folder). */
  function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
  export = pinoRoll;
}
