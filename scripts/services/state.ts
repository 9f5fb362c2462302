/** Where `services:up` records the detached servers it started, for `services:down`. */

const root = new URL("../../", import.meta.url).pathname;

export const STATE_FILE = `${root}data/services.json`;
export const ENV_FILE = `${root}data/services.env`;
