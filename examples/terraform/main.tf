# Cloudflare resources the Worker's storage needs beyond wrangler.toml.
#
# The default store, a SQLite-backed Durable Object, needs nothing here: wrangler creates it
# from the migration in wrangler.toml on the first deploy. Only the opt-in Workers KV backend
# (STORE = "kv") needs a namespace; set kv_backend = true to create it. Its id is an output —
# the deploy workflow takes it from a repository variable, so no id is ever committed.

terraform {
  required_version = ">= 1.5"
  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.0"
    }
  }
}

# The token comes from CLOUDFLARE_API_TOKEN (Workers KV Storage: Edit).
provider "cloudflare" {}

variable "account_id" {
  description = "Cloudflare account id (dashboard → Workers & Pages → Account details)."
  type        = string
}

variable "kv_backend" {
  description = "Create the HEARTBEAT_LOGS namespace for the opt-in Workers KV backend."
  type        = bool
  default     = false
}

resource "cloudflare_workers_kv_namespace" "heartbeat_logs" {
  count      = var.kv_backend ? 1 : 0
  account_id = var.account_id
  title      = "heartbeat-monitor-HEARTBEAT_LOGS"
}

output "heartbeat_logs_namespace_id" {
  description = "Set it as the repository variable HEARTBEAT_LOGS_NAMESPACE_ID (deploy.yml binds it)."
  value       = one(cloudflare_workers_kv_namespace.heartbeat_logs[*].id)
}
