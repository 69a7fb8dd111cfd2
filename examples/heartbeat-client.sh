#!/usr/bin/env bash
# Send one heartbeat to heartbeat-monitor, or run a command and report how it went.
#
#   HEARTBEAT_URL=https://monitor.example.com SERVICE_ID=nightly-backup API_KEY=… \
#     ./heartbeat-client.sh                       # status "up" (or $STATUS), message $MESSAGE
#   ./heartbeat-client.sh -- pg_dump mydb       # wrapper: "up" on exit 0, else "down" with the
#                                               # exit code and the tail of the output
#
# Retries transient failures (network errors, 429, 5xx) with backoff; exits non-zero with a
# readable message on stderr when the heartbeat could not be delivered.
set -euo pipefail

: "${HEARTBEAT_URL:?set HEARTBEAT_URL, e.g. https://monitor.example.com}"
: "${SERVICE_ID:?set SERVICE_ID}"
: "${API_KEY:?set API_KEY}"
STATUS="${STATUS:-up}"
MESSAGE="${MESSAGE:-}"
ATTEMPTS="${ATTEMPTS:-4}"
exit_code=0

if [ "${1:-}" = "--" ]; then
  shift
  output_file=$(mktemp)
  trap 'rm -f "$output_file"' EXIT
  set +e
  "$@" >"$output_file" 2>&1
  exit_code=$?
  set -e
  cat "$output_file"
  if [ "$exit_code" -eq 0 ]; then
    STATUS=up
    MESSAGE="${MESSAGE:-$1 succeeded}"
  else
    STATUS=down
    MESSAGE="$1 failed with exit code $exit_code: $(tail -c 600 "$output_file")"
  fi
fi

# JSON-escape a string with nothing but bash: backslash, quote, control characters.
json_string() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    # shellcheck disable=SC1003 # '\' is a lone backslash, quoted on purpose
    case "$c" in
      '\') out+='\\' ;;
      '"') out+='\"' ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      *)
        if [[ "$c" < ' ' ]]; then printf -v c '\\u%04x' "'$c"; fi
        out+="$c"
        ;;
    esac
  done
  printf '"%s"' "$out"
}

body="{\"serviceId\":$(json_string "$SERVICE_ID"),\"status\":$(json_string "$STATUS"),\"message\":$(json_string "$MESSAGE")}"
response=$(mktemp)
trap 'rm -f "$response" "${output_file:-}"' EXIT

delay=1
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  code=$(curl -sS -o "$response" -w '%{http_code}' --max-time 15 \
    -X POST "${HEARTBEAT_URL%/}/api/heartbeat" \
    -H "Authorization: Bearer $API_KEY" \
    -H 'Content-Type: application/json' \
    --data "$body") || code=000
  case "$code" in
    2??)
      exit "$exit_code"
      ;;
    000 | 408 | 429 | 5??)
      if [ "$attempt" -lt "$ATTEMPTS" ]; then
        sleep "$delay"
        delay=$((delay * 2))
        continue
      fi
      ;;
  esac
  echo "heartbeat-client: heartbeat for $SERVICE_ID not delivered (HTTP $code): $(cat "$response")" >&2
  exit 2
done
