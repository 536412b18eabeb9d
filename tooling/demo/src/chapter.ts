/**
 * One chapter of the guided tour. Every file in `src/chapters/` exports `chapter: Chapter`;
 * the demo discovers them at run time.
 */
export interface Chapter {
  /** Shown as the chapter's heading. */
  title: string;
  /**
   * Starts real servers on loopback (port 0), runs clients against them and logs what happens,
   * one line per call of `log`. Throws when something does not behave; cleans up either way.
   */
  run(log: (line: string) => void): Promise<void>;
}
