// Tests of the request reader: one request from JSON, JSON Lines and CSV imports, and the
// messages a person gets for every kind of bad value.
#include "soundtrackd/db/request_reader.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace soundtrackd::db {
namespace {

// A refusal's message and field.
using refused = std::pair<std::string, std::string>;

// The message and field of the invalid_request `body` throws; fails the test when it throws none.
template <typename Body>
refused refusal(Body&& body) {
  try {
    body();
  } catch (const invalid_request& e) {
    return {e.what(), e.field()};
  }
  ADD_FAILURE() << "expected invalid_request";
  return {};
}

refused json_refusal(std::string_view text) {
  return refusal([&] { job_request_from_json(text); });
}

struct read_line {
  std::size_t line;
  job_request request;
};

std::vector<read_line> read_all(const std::string& text, import_format format) {
  std::istringstream in(text);
  std::vector<read_line> out;
  read_requests(in, format, [&](std::size_t line, job_request&& r) { out.push_back({line, std::move(r)}); });
  return out;
}

refused import_refusal(const std::string& text, import_format format) {
  return refusal([&] { read_all(text, format); });
}

std::string repeated(std::string_view piece, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += piece;
  return s;
}

TEST(JobRequestFromJson, OnlyPromptGivesTheColumnDefaults) {
  auto r = job_request_from_json(R"({"prompt": "calm piano"})");
  EXPECT_EQ(r.prompt, "calm piano");
  EXPECT_EQ(r.lyrics, "");
  EXPECT_FALSE(r.is_instrumental);
  EXPECT_FALSE(r.lyrics_optimizer);
  EXPECT_EQ(r.sample_rate, 44100);
  EXPECT_EQ(r.bitrate, 256000);
  EXPECT_EQ(r.priority, 0);
  EXPECT_FALSE(r.batch);
  EXPECT_FALSE(r.name);
  EXPECT_FALSE(r.run_after);
  EXPECT_FALSE(r.max_attempts);
}

TEST(JobRequestFromJson, ReadsEveryColumn) {
  auto r = job_request_from_json(
      R"({"prompt": "p", "lyrics": "[Verse]\nla", "is_instrumental": true, "lyrics_optimizer": 1,
          "sample_rate": 32000, "bitrate": 128000, "priority": -3, "batch": "night", "name": "Track 1",
          "run_after": 1767225600.5, "max_attempts": 2})");
  EXPECT_EQ(r.lyrics, "[Verse]\nla");
  EXPECT_TRUE(r.is_instrumental);
  EXPECT_TRUE(r.lyrics_optimizer);
  EXPECT_EQ(r.sample_rate, 32000);
  EXPECT_EQ(r.bitrate, 128000);
  EXPECT_EQ(r.priority, -3);
  EXPECT_EQ(r.batch, "night");
  EXPECT_EQ(r.name, "Track 1");
  EXPECT_EQ(r.run_after, 1767225600.5);
  EXPECT_EQ(r.max_attempts, 2);
}

TEST(JobRequestFromJson, NullMeansTheColumnDefault) {
  auto r = job_request_from_json(
      R"({"prompt": "p", "lyrics": null, "is_instrumental": null, "sample_rate": null, "batch": null,
          "name": null, "run_after": null, "max_attempts": null})");
  EXPECT_EQ(r.lyrics, "");
  EXPECT_FALSE(r.is_instrumental);
  EXPECT_EQ(r.sample_rate, 44100);
  EXPECT_FALSE(r.batch);
  EXPECT_FALSE(r.run_after);
  EXPECT_FALSE(r.max_attempts);
}

TEST(JobRequestFromJson, RunAfterTakesUtcIsoText) {
  EXPECT_EQ(job_request_from_json(R"({"prompt": "p", "run_after": "2030-01-02T03:04:05Z"})").run_after, 1893553445.0);
  EXPECT_EQ(job_request_from_json(R"({"prompt": "p", "run_after": "2030-01-02 03:04:05.5+00:00"})").run_after,
            1893553445.5);
  // No zone: a local time must never be read as UTC.
  EXPECT_EQ(json_refusal(R"({"prompt": "p", "run_after": "2030-01-02 03:04:05"})").second, "run_after");
}

TEST(JobRequestFromJson, IntegralDoublesAreIntegers) {
  auto r = job_request_from_json(R"({"prompt": "p", "sample_rate": 48000.0, "is_instrumental": 1.0})");
  EXPECT_EQ(r.sample_rate, 48000);
  EXPECT_TRUE(r.is_instrumental);
}

TEST(JobRequestFromJson, ThePromptIsRequired) {
  EXPECT_EQ(json_refusal(R"({})"), refused("prompt is required", "prompt"));
  EXPECT_EQ(json_refusal(R"({"prompt": null})").first, "prompt is required");
  EXPECT_EQ(json_refusal(R"({"prompt": ""})").first, "prompt must be 1 to 2000 characters (got 0)");
}

TEST(JobRequestFromJson, LengthsAreCountedInCodePoints) {
  const auto at_limit = repeated("é", max_prompt_characters);
  EXPECT_NO_THROW(job_request_from_json(R"({"prompt": ")" + at_limit + "\"}"));
  EXPECT_EQ(json_refusal(R"({"prompt": ")" + at_limit + "é\"}"),
            refused("prompt must be 1 to 2000 characters (got 2001)", "prompt"));
  const auto lyrics = repeated("ü", max_lyrics_characters);
  EXPECT_NO_THROW(job_request_from_json(R"({"prompt": "p", "lyrics": ")" + lyrics + "\"}"));
  EXPECT_EQ(json_refusal(R"({"prompt": "p", "lyrics": ")" + lyrics + "x\"}"),
            refused("lyrics must be at most 3500 characters (got 3501)", "lyrics"));
  // The label limits of migration 0003, in code points too.
  const auto label = repeated("ñ", max_label_characters);
  EXPECT_NO_THROW(job_request_from_json(R"({"prompt": "p", "name": ")" + label + R"(", "batch": ")" + label + "\"}"));
  EXPECT_EQ(json_refusal(R"({"prompt": "p", "name": ")" + label + "x\"}"),
            refused("name must be at most 200 characters (got 201)", "name"));
  EXPECT_EQ(json_refusal(R"({"prompt": "p", "batch": ")" + label + "x\"}"),
            refused("batch must be at most 200 characters (got 201)", "batch"));
}

TEST(JobRequestFromJson, WrongTypesNameTheFieldAndTheValue) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {R"({"prompt": 5})", "prompt must be text (got 5)", "prompt"},
      {R"({"prompt": "p", "lyrics": ["a"]})", R"(lyrics must be text (got ["a"]))", "lyrics"},
      {R"({"prompt": "p", "is_instrumental": "yes"})", R"(is_instrumental must be true/false or 0/1 (got "yes"))",
       "is_instrumental"},
      {R"({"prompt": "p", "is_instrumental": 2})", "is_instrumental must be true/false or 0/1 (got 2)",
       "is_instrumental"},
      {R"({"prompt": "p", "lyrics_optimizer": 0.5})", "lyrics_optimizer must be true/false or 0/1 (got 0.5)",
       "lyrics_optimizer"},
      {R"({"prompt": "p", "sample_rate": "44100"})", R"(sample_rate must be a positive integer (got "44100"))",
       "sample_rate"},
      {R"({"prompt": "p", "sample_rate": 44100.5})", "sample_rate must be a positive integer (got 44100.5)",
       "sample_rate"},
      {R"({"prompt": "p", "sample_rate": 0})", "sample_rate must be a positive integer (got 0)", "sample_rate"},
      {R"({"prompt": "p", "bitrate": -1})", "bitrate must be a positive integer (got -1)", "bitrate"},
      {R"({"prompt": "p", "bitrate": 18446744073709551615})",
       "bitrate must be a positive integer (got 18446744073709551615)", "bitrate"},
      {R"({"prompt": "p", "priority": true})", "priority must be an integer (got true)", "priority"},
      {R"({"prompt": "p", "batch": 7})", "batch must be text or null (got 7)", "batch"},
      {R"({"prompt": "p", "name": {}})", "name must be text or null (got {})", "name"},
      {R"({"prompt": "p", "run_after": "2026-01-01T08:00:00"})",
       R"(run_after must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as 2026-01-01T08:00:00Z (got "2026-01-01T08:00:00"))",
       "run_after"},
      {R"({"prompt": "p", "run_after": 1893553445000})",
       "run_after must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as 2026-01-01T08:00:00Z (got "
       "1893553445000)",
       "run_after"},
      {R"({"prompt": "p", "run_after": -1})",
       "run_after must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as 2026-01-01T08:00:00Z (got -1)",
       "run_after"},
      {R"({"prompt": "p", "max_attempts": 0})", "max_attempts must be null or a positive integer (got 0)",
       "max_attempts"},
      {R"({"prompt": "p", "max_attempts": 3000000000})",
       "max_attempts must be null or a positive integer (got 3000000000)", "max_attempts"},
  };
  for (const auto& [text, message, field] : cases)
    EXPECT_EQ(json_refusal(text), std::make_pair(message, field)) << text;
}

TEST(JobRequestFromJson, UnknownAndDaemonWrittenKeysAreRefused) {
  EXPECT_EQ(json_refusal(R"({"promt": "p"})"), refused(R"(unknown field "promt" (did you mean "prompt"?))", "promt"));
  EXPECT_EQ(json_refusal(R"({"prompt": "p", "colour": "red"})").first,
            R"(unknown field "colour"; the columns are prompt, lyrics, is_instrumental, lyrics_optimizer, )"
            "sample_rate, bitrate, priority, batch, name, run_after, max_attempts");
  for (std::string column : {"id", "created_at", "status", "attempts", "remote_job_id", "last_error", "updated_at",
                             "submitted_at", "finished_at", "next_attempt_at", "progress", "cost_cu"})
    EXPECT_EQ(json_refusal(R"({"prompt": "p", ")" + column + R"(": null})"),
              std::make_pair(column + " is written by soundtrackd, not by a request; leave that field out", column));
}

TEST(JobRequestFromJson, TheTextMustBeOneObject) {
  EXPECT_EQ(json_refusal("[1]"), refused("must be one JSON object (got [1])", ""));
  auto [message, field] = json_refusal(R"({"prompt": )");
  EXPECT_TRUE(message.starts_with("not valid JSON (")) << message;
  EXPECT_EQ(field, "");
}

TEST(JobRequestFromJson, TheObjectOverloadIsTheSame) {
  auto value = boost::json::parse(R"({"prompt": "p", "batch": "b"})");
  EXPECT_EQ(job_request_from_json(value.get_object()).batch, "b");
}

TEST(Validate, RefusesTextThatIsNotUtf8OrHoldsNul) {
  job_request r;
  r.prompt = "ok \xC3";  // a cut-off two-byte sequence
  EXPECT_EQ(refusal([&] { validate(r); }),
            refused("prompt is not valid UTF-8 (at byte 3); save the text as UTF-8", "prompt"));
  for (std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\xFF"}) {
    r.prompt = "p";
    r.name = bad;
    EXPECT_EQ(refusal([&] { validate(r); }).second, "name") << bad;
  }
  r.name = "ok";
  r.lyrics = std::string("a\0b", 3);
  EXPECT_EQ(refusal([&] { validate(r); }), refused("lyrics contains a NUL character (at byte 1)", "lyrics"));
  r.lyrics = "\xF0\x9F\x8E\xB5 €";  // four- and three-byte sequences are fine
  r.batch = "夜";
  EXPECT_NO_THROW(validate(r));
}

TEST(Validate, RefusesNotANumberTimes) {
  job_request r;
  r.prompt = "p";
  r.run_after = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(refusal([&] { validate(r); }).second, "run_after");
  r.run_after = max_epoch_seconds;
  EXPECT_NO_THROW(validate(r));
}

TEST(ImportFormat, FromNamesAndPaths) {
  EXPECT_EQ(parse_import_format("jsonl"), import_format::json_lines);
  EXPECT_EQ(parse_import_format("csv"), import_format::csv);
  EXPECT_FALSE(parse_import_format("xml"));
  EXPECT_EQ(import_format_of_path("night.jsonl"), import_format::json_lines);
  EXPECT_EQ(import_format_of_path("/a.b/night.JSON"), import_format::json_lines);
  EXPECT_EQ(import_format_of_path("x.ndjson"), import_format::json_lines);
  EXPECT_EQ(import_format_of_path("night.CSV"), import_format::csv);
  EXPECT_FALSE(import_format_of_path("night.txt"));
  EXPECT_FALSE(import_format_of_path("/a.csv/night"));
  EXPECT_FALSE(import_format_of_path("-"));
}

TEST(ReadJsonLines, OneRequestPerLineWithItsLineNumber) {
  auto rows =
      read_all("\xEF\xBB\xBF{\"prompt\": \"a\"}\n\n   \n{\"prompt\": \"b\", \"batch\": \"n\"}\r\n{\"prompt\": \"c\"}",
               import_format::json_lines);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].request.prompt, "a");
  EXPECT_EQ(rows[1].line, 4u);
  EXPECT_EQ(rows[1].request.batch, "n");
  EXPECT_EQ(rows[2].line, 5u);
  EXPECT_EQ(rows[2].request.prompt, "c");
  EXPECT_TRUE(read_all("", import_format::json_lines).empty());
}

TEST(ReadJsonLines, ErrorsNameTheLineAndTheField) {
  const std::string good = "{\"prompt\": \"a\"}\n";
  EXPECT_EQ(
      import_refusal(good + good + "{\"prompt\": \"a\", \"sample_rate\": \"abc\"}\n" + good, import_format::json_lines),
      refused(R"(line 3: sample_rate must be a positive integer (got "abc"))", "sample_rate"));
  auto [message, field] = import_refusal(good + "{\"prompt\": \"a\"\n", import_format::json_lines);
  EXPECT_TRUE(message.starts_with("line 2: not valid JSON (")) << message;
  EXPECT_TRUE(message.ends_with("); each line must be one JSON object")) << message;
  EXPECT_EQ(field, "");
  EXPECT_EQ(import_refusal("{\"prompt\": \"a\"} {\"prompt\": \"b\"}\n", import_format::json_lines).first.substr(0, 22),
            "line 1: not valid JSON");
  EXPECT_EQ(import_refusal(good + "\"just text\"\n", import_format::json_lines).first,
            R"(line 2: each line must be one JSON object (got "just text"))");
  EXPECT_EQ(import_refusal("[{\"prompt\": \"a\"},\n{\"prompt\": \"b\"}]\n", import_format::json_lines).first,
            "line 1: a JSON array; import reads JSON Lines, one object per line (convert with: jq -c '.[]' "
            "FILE.json > FILE.jsonl)");
  EXPECT_EQ(import_refusal(good + "{\"promt\": \"a\"}\n", import_format::json_lines),
            refused(R"(line 2: unknown field "promt" (did you mean "prompt"?))", "promt"));
}

TEST(ReadJsonLines, StopsAtTheFirstBadLineAfterVisitingTheGoodOnes) {
  std::istringstream in("{\"prompt\": \"a\"}\n{}\n{\"prompt\": \"c\"}\n");
  std::vector<std::size_t> seen;
  try {
    read_json_lines(in, [&](std::size_t line, job_request&&) { seen.push_back(line); });
    FAIL() << "expected invalid_import_line";
  } catch (const invalid_import_line& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.field(), "prompt");
    EXPECT_STREQ(e.what(), "line 2: prompt is required");
  }
  EXPECT_EQ(seen, std::vector<std::size_t>{1});
}

TEST(ReadJsonLines, AVisitorsExceptionPassesThroughUnchanged) {
  std::istringstream in("{\"prompt\": \"a\"}\n");
  EXPECT_THROW(read_json_lines(in, [](std::size_t, job_request&&) { throw std::logic_error("stop"); }),
               std::logic_error);
}

TEST(ReadCsv, HeaderNamesTheColumnsAndEmptyCellsAreDefaults) {
  auto rows = read_all(
      "prompt,batch,is_instrumental,sample_rate,run_after,max_attempts,lyrics_optimizer,bitrate,priority,name,lyrics\n"
      "calm piano,night,true,32000,1767225600,3,FALSE,128000,-2,Track 1,la\n"
      "drums,,,,,,,,,,\n",
      import_format::csv);
  ASSERT_EQ(rows.size(), 2u);
  const auto& a = rows[0].request;
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(a.prompt, "calm piano");
  EXPECT_EQ(a.batch, "night");
  EXPECT_TRUE(a.is_instrumental);
  EXPECT_EQ(a.sample_rate, 32000);
  EXPECT_EQ(a.run_after, 1767225600.0);
  EXPECT_EQ(a.max_attempts, 3);
  EXPECT_FALSE(a.lyrics_optimizer);
  EXPECT_EQ(a.bitrate, 128000);
  EXPECT_EQ(a.priority, -2);
  EXPECT_EQ(a.name, "Track 1");
  EXPECT_EQ(a.lyrics, "la");
  const auto& b = rows[1].request;
  EXPECT_EQ(b.prompt, "drums");
  EXPECT_FALSE(b.batch);
  EXPECT_FALSE(b.is_instrumental);
  EXPECT_EQ(b.sample_rate, 44100);
  EXPECT_FALSE(b.run_after);
  EXPECT_FALSE(b.max_attempts);
  EXPECT_EQ(b.lyrics, "");
}

TEST(ReadCsv, QuotingFollowsRfc4180) {
  auto rows = read_all(
      "\xEF\xBB\xBF"
      "prompt,lyrics\r\n"
      "\"piano, slow\",\"[Verse]\r\nShe said \"\"hi\"\"\nbye\"\r\n"
      "plain \"quote\" inside,\r\n"
      "\n"
      "last,\"\"",
      import_format::csv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[0].request.prompt, "piano, slow");
  EXPECT_EQ(rows[0].request.lyrics, "[Verse]\r\nShe said \"hi\"\nbye");
  EXPECT_EQ(rows[1].line, 5u);  // the quoted lyrics spanned lines 2 to 4
  EXPECT_EQ(rows[1].request.prompt, "plain \"quote\" inside");
  EXPECT_EQ(rows[2].line, 7u);
  EXPECT_EQ(rows[2].request.prompt, "last");
  EXPECT_TRUE(read_all("", import_format::csv).empty());
  EXPECT_TRUE(read_all("prompt\n", import_format::csv).empty());
}

TEST(ReadCsv, CellsAreTrimmedForNumbersAndFlagsOnly) {
  auto rows = read_all("prompt, sample_rate ,is_instrumental\n  spaced  , 48000 , True \n", import_format::csv);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request.prompt, "  spaced  ");
  EXPECT_EQ(rows[0].request.sample_rate, 48000);
  EXPECT_TRUE(rows[0].request.is_instrumental);
}

TEST(ReadCsv, HeaderErrorsAreOnLineOne) {
  EXPECT_EQ(import_refusal("promt,batch\nx,y\n", import_format::csv),
            refused(R"(line 1: unknown column "promt" (did you mean "prompt"?))", "promt"));
  EXPECT_EQ(import_refusal("prompt,status\n", import_format::csv),
            refused("line 1: status is written by soundtrackd, not by a request; leave that column out", "status"));
  EXPECT_EQ(import_refusal("prompt,batch,batch\n", import_format::csv),
            refused(R"(line 1: column "batch" appears twice in the header)", "batch"));
  EXPECT_EQ(
      import_refusal("batch,name\nx,y\n", import_format::csv),
      refused("line 1: the header has no prompt column; the first line names the columns, e.g. prompt,lyrics,batch",
              "prompt"));
}

TEST(ReadCsv, RecordErrorsNameTheLineAndTheField) {
  const std::string header = "prompt,sample_rate,is_instrumental,max_attempts,run_after\n";
  EXPECT_EQ(import_refusal(header + "a,44100,0,,\nb,abc,0,,\n", import_format::csv),
            refused(R"(line 3: sample_rate must be a positive integer (got "abc"))", "sample_rate"));
  EXPECT_EQ(import_refusal(header + "a,44100.0,0,,\n", import_format::csv).first,
            R"(line 2: sample_rate must be a positive integer (got "44100.0"))");
  EXPECT_EQ(import_refusal(header + "a,0,0,,\n", import_format::csv).first,
            "line 2: sample_rate must be a positive integer (got 0)");
  EXPECT_EQ(import_refusal(header + "a,,yes,,\n", import_format::csv).first,
            R"(line 2: is_instrumental must be true/false or 0/1 (got "yes"))");
  EXPECT_EQ(import_refusal(header + "a,,,99999999999,\n", import_format::csv).first,
            R"(line 2: max_attempts must be null or a positive integer (got "99999999999"))");
  EXPECT_EQ(
      import_refusal(header + "a,,,,soon\n", import_format::csv).first,
      R"(line 2: run_after must be epoch seconds (0 to 253402300800) or UTC ISO-8601 text such as 2026-01-01T08:00:00Z (got "soon"))");
  EXPECT_EQ(import_refusal(header + "a,,,,nan\n", import_format::csv).second, "run_after");
  EXPECT_EQ(import_refusal(header + "a,,,,2030-01-02 03:04\n", import_format::csv).second, "run_after");
  EXPECT_EQ(read_all(header + "a,,,, 2030-01-02T03:04:05Z \n", import_format::csv)[0].request.run_after, 1893553445.0);
  EXPECT_EQ(import_refusal(header + ",,,,\n", import_format::csv), refused("line 2: prompt is required", "prompt"));
  EXPECT_EQ(import_refusal(header + "a,44100\n", import_format::csv),
            refused("line 2: 2 fields, but the header names 5 columns", ""));
  EXPECT_EQ(import_refusal("prompt\n\"x\" y\n", import_format::csv).first,
            "line 2: after a closing quote must come a comma or the end of the line (write a quote inside a quoted "
            "field as \"\")");
  EXPECT_EQ(import_refusal("prompt\nok\n\"never\nclosed\n", import_format::csv).first,
            "line 3: a quoted field opened on this line is never closed");
  EXPECT_EQ(import_refusal("prompt\n" + repeated("x", 2001) + "\n", import_format::csv).first,
            "line 2: prompt must be 1 to 2000 characters (got 2001)");
  EXPECT_EQ(import_refusal("prompt\n\xFFx\n", import_format::csv).first,
            "line 2: prompt is not valid UTF-8 (at byte 0); save the text as UTF-8");
}

TEST(ReadCsv, ALoneCarriageReturnIsText) {
  auto rows = read_all("prompt\na\rb\n", import_format::csv);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request.prompt, "a\rb");
}

}  // namespace
}  // namespace soundtrackd::db
