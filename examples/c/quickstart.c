/*
 * The README's C quick start: open Gold Plan for a special merchant, and read an error.
 * Build: cc quickstart.c $(pkg-config --cflags --libs goldplan)
 * Run:   ./quickstart goldplan-sandbox-state/sandbox.json [sub_mchid]
 */
#include <stdio.h>
#include <string.h>

#include <goldplan.h>

/* Prints the calling thread's last error (the core's JSON error report). */
static void print_error(const char *what) {
    char *report = NULL;
    size_t len = 0;
    if (goldplan_last_error_report(&report, &len) == GOLDPLAN_STATUS_OK) {
        fprintf(stderr, "%s failed: %.*s\n", what, (int)len, report);
        goldplan_string_free(report);
    }
}

int main(int argc, char **argv) {
    const char *config = argc > 1 ? argv[1] : "goldplan-sandbox-state/sandbox.json";
    const char *sub_mchid = argc > 2 ? argv[2] : "1900000109";

    goldplan_client *client = NULL;
    if (goldplan_client_new_from_file(config, strlen(config), &client) != GOLDPLAN_STATUS_OK) {
        print_error("goldplan_client_new_from_file");
        return 1;
    }

    char args[256];
    snprintf(args, sizeof args,
             "{\"sub_mchid\":\"%s\",\"operation_type\":\"OPEN\",\"operation_pay_scene\":\"JSAPI\"}", sub_mchid);
    goldplan_response *response = NULL;
    const char *op = "change_gold_plan_status";
    if (goldplan_client_call(client, op, strlen(op), args, strlen(args), &response) != GOLDPLAN_STATUS_OK) {
        print_error(op);
        goldplan_client_free(client);
        return 1;
    }
    const char *json = NULL, *request_id = NULL;
    size_t json_len = 0, id_len = 0;
    goldplan_response_json(response, &json, &json_len);
    goldplan_response_request_id(response, &request_id, &id_len);
    printf("%s: %.*s (Request-ID %.*s)\n", op, (int)json_len, json, (int)id_len, request_id ? request_id : "");
    goldplan_response_free(response);

    /* Errors are statuses plus a report: here WeChat Pay refuses an unknown special merchant. */
    const char *bad = "{\"sub_mchid\":\"1234567890\",\"operation_type\":\"OPEN\"}";
    goldplan_status status = goldplan_client_call(client, op, strlen(op), bad, strlen(bad), &response);
    if (status != GOLDPLAN_STATUS_API) {
        fprintf(stderr, "expected GOLDPLAN_STATUS_API, got %d\n", (int)status);
        goldplan_client_free(client);
        return 1;
    }
    print_error("the unknown sub_mchid (expected)");
    goldplan_client_free(client);
    return 0;
}
