/**
 * Island: report a sighting. Click the map to pick the spot, choose the type, send. Field
 * errors from the API are shown next to the fields they name.
 */

import { useEffect, useState } from "preact/hooks";
import { ALERT_TYPES } from "../domain/alert.ts";
import { listen, myUserId } from "../client/events.ts";
import { label } from "../client/format.ts";

export interface ReportFormProps {
  noteMax: number;
  /** Who the request's cookie says this browser is, if anyone yet. */
  me?: string;
}

interface FieldError {
  field: string;
  reason: string;
}

export default function ReportForm(props: ReportFormProps) {
  const [at, setAt] = useState<{ lat: number; lng: number } | undefined>();
  const [type, setType] = useState<string>(ALERT_TYPES[0]);
  const [note, setNote] = useState("");
  const [reporterId, setReporterId] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [result, setResult] = useState("");
  const [sending, setSending] = useState(false);

  useEffect(() => {
    // You report as yourself, whoever's feed you are watching.
    myUserId(props.me).then(setReporterId).catch(() => {});
    return listen("alertcircle:pick", setAt);
  }, []);

  const errorFor = (field: string) => errors.find((e) => e.field === field)?.reason;

  async function send(e: Event) {
    e.preventDefault();
    if (!at) return setErrors([{ field: "lat", reason: "pick a spot on the map first" }]);
    setSending(true);
    setResult("");
    try {
      const res = await fetch("/api/reports", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type, lat: at.lat, lng: at.lng, reporterId, ...(note.trim() ? { note } : {}) }),
      });
      const body = await res.json();
      if (res.status === 202) {
        setErrors([]);
        setNote("");
        setResult(`Sent. Everyone within range is being told.`);
      } else if (res.status === 429) {
        setResult(`${body.message}.`);
      } else {
        setErrors(body.fields ?? []);
        setResult(body.message ?? `Failed (${res.status})`);
      }
    } catch {
      setResult("Network error: not sent.");
    } finally {
      setSending(false);
    }
  }

  return (
    <section class="panel report" aria-label="Report a sighting">
      <h2>Report a sighting</h2>
      <form onSubmit={send}>
        <p class="where" data-testid="picked">
          {at ? `At ${at.lat.toFixed(5)}, ${at.lng.toFixed(5)}` : "Click the map to choose where."}
        </p>
        {errorFor("lat") && <p class="error">{errorFor("lat")}</p>}
        <label>
          What
          <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {ALERT_TYPES.map((t) => <option key={t} value={t}>{label(t)}</option>)}
          </select>
        </label>
        {errorFor("type") && <p class="error">{errorFor("type")}</p>}
        <label>
          Note <small>(optional)</small>
          <input name="note" maxLength={props.noteMax} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        {errorFor("note") && <p class="error">{errorFor("note")}</p>}
        {errorFor("reporterId") && <p class="error">Reporter: {errorFor("reporterId")}</p>}
        <button type="submit" disabled={sending}>{sending ? "Sending…" : "Send report"}</button>
        {result && <p class="note" role="status">{result}</p>}
      </form>
    </section>
  );
}
