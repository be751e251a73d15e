// Export file names: sanitised, unique by id, extension from the MIME type.
#include "soundtrackd/util/file_names.hpp"

#include <gtest/gtest.h>

using namespace soundtrackd;

TEST(FileNames, ExtensionFromMime) {
  EXPECT_EQ(extension_for_mime("audio/mpeg"), "mp3");
  EXPECT_EQ(extension_for_mime("audio/wav"), "wav");
  EXPECT_EQ(extension_for_mime("audio/flac"), "flac");
  EXPECT_EQ(extension_for_mime("audio/mpeg; charset=binary"), "mp3");
  EXPECT_EQ(extension_for_mime("application/octet-stream"), "bin");
}

TEST(FileNames, NameIdAndIndex) {
  EXPECT_EQ(export_file_name(std::string("Battle Theme"), 42, 0, "audio/mpeg"), "Battle-Theme-42.mp3");
  EXPECT_EQ(export_file_name(std::string("Battle Theme"), 42, 1, "audio/mpeg"), "Battle-Theme-42-2.mp3");
  EXPECT_EQ(export_file_name(std::nullopt, 7, 0, "audio/wav"), "job-7.wav");
  EXPECT_EQ(export_file_name(std::string(""), 7, 0, "audio/flac"), "job-7.flac");
}

TEST(FileNames, HostileNamesAreSanitised) {
  EXPECT_EQ(export_file_name(std::string("../../etc/passwd"), 1, 0, "audio/mpeg"), "etc-passwd-1.mp3");
  EXPECT_EQ(export_file_name(std::string("a/b\\c:d"), 1, 0, "audio/mpeg"), "a-b-c-d-1.mp3");
  EXPECT_EQ(export_file_name(std::string("..."), 1, 0, "audio/mpeg"), "job-1.mp3");
  EXPECT_EQ(export_file_name(std::string(200, 'x'), 1, 0, "audio/mpeg"), std::string(80, 'x') + "-1.mp3");
}

// Names any program may have written: nothing in them can leave the export directory, hide the
// file, or make a name the file system or a shell treats specially.
TEST(FileNames, ControlCharactersReservedNamesAndNonAscii) {
  EXPECT_EQ(export_file_name(std::string("a\nb\tc\rd\x1B[31m\x7F"), 3, 0, "audio/mpeg"), "a-b-c-d-31m-3.mp3");
  EXPECT_EQ(export_file_name(std::string("nul\0byte", 8), 3, 0, "audio/mpeg"), "nul-byte-3.mp3");
  EXPECT_EQ(export_file_name(std::string(".."), 3, 0, "audio/mpeg"), "job-3.mp3");
  EXPECT_EQ(export_file_name(std::string("."), 3, 0, "audio/mpeg"), "job-3.mp3");
  EXPECT_EQ(export_file_name(std::string(".hidden"), 3, 0, "audio/mpeg"), "hidden-3.mp3");
  EXPECT_EQ(export_file_name(std::string("-rf"), 3, 0, "audio/mpeg"), "rf-3.mp3");  // no leading dash for shells
  EXPECT_EQ(export_file_name(std::string("/"), 3, 0, "audio/mpeg"), "job-3.mp3");
  EXPECT_EQ(export_file_name(std::string("C:\\Windows\\..\\x"), 3, 0, "audio/mpeg"), "C-Windows-x-3.mp3");
  // Windows' reserved device names are harmless once the id follows them ("CON-3", not "CON").
  EXPECT_EQ(export_file_name(std::string("CON"), 3, 0, "audio/mpeg"), "CON-3.mp3");
  EXPECT_EQ(export_file_name(std::string("nul.txt"), 3, 0, "audio/wav"), "nul.txt-3.wav");
  // Emoji and right-to-left text are not ASCII: they become separators, or "job" if nothing is left.
  EXPECT_EQ(export_file_name(std::string("\xF0\x9F\x8E\xB5 Song \xF0\x9F\x8E\xB5"), 3, 0, "audio/mpeg"), "Song-3.mp3");
  EXPECT_EQ(export_file_name(std::string("\xD7\xA9\xD7\x99\xD7\xA8"), 3, 0, "audio/mpeg"), "job-3.mp3");
  EXPECT_EQ(export_file_name(std::string("\xE2\x80\xAEgpj.exe"), 3, 0, "audio/mpeg"), "gpj.exe-3.mp3");
  // Every possible byte value alone: the result is always [A-Za-z0-9._-]+ and never starts with '.' or '-'.
  for (int c = 0; c < 256; ++c) {
    const auto file = export_file_name(std::string(3, static_cast<char>(c)), 9, 0, "audio/mpeg");
    SCOPED_TRACE(c);
    EXPECT_EQ(file.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
              std::string::npos);
    EXPECT_NE(file.front(), '.');
    EXPECT_NE(file.front(), '-');
    EXPECT_EQ(file.find(".."), std::string::npos);
  }
}
