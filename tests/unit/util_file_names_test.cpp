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
