/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

START_TEST(full_address_is_canonical)
{
	char bdf[SVFF_BDF_SIZE];

	ck_assert_int_eq(svff_bdf_parse("0000:03:00.2", bdf), 0);
	ck_assert_str_eq(bdf, "0000:03:00.2");
	ck_assert_int_eq(svff_bdf_parse("ABCD:Ef:1f.7", bdf), 0);
	ck_assert_str_eq(bdf, "abcd:ef:1f.7");
}
END_TEST

START_TEST(short_address_gets_domain_zero)
{
	char bdf[SVFF_BDF_SIZE];

	ck_assert_int_eq(svff_bdf_parse("03:00.2", bdf), 0);
	ck_assert_str_eq(bdf, "0000:03:00.2");
}
END_TEST

START_TEST(malformed_addresses_are_refused)
{
	static const char *const bad[] = {
		"", "0000:03:00", "0000:03:00.8", "0000:03:20.0", "0000:3:00.0",
		"0000:03:00.0 ", "g000:03:00.0", "0000-03:00.0", "0000:03:00.0.1",
		"../../etc", "0000:03:00.", "00000:03:00.0",
	};
	char bdf[SVFF_BDF_SIZE] = "untouched";

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		ck_assert_msg(svff_bdf_parse(bad[i], bdf) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_str_eq(bdf, "untouched");
	}
	ck_assert_int_eq(svff_bdf_parse(NULL, bdf), -EINVAL);
}
END_TEST

START_TEST(only_canonical_form_is_valid_in_paths)
{
	ck_assert(bdf_is_valid("0000:03:00.2"));
	ck_assert(!bdf_is_valid("03:00.2"));
	ck_assert(!bdf_is_valid("0000:03:00.A"));
}
END_TEST

START_TEST(each_error_class_has_its_own_exit_code)
{
	static const int errors[] = { EINVAL, ENODEV,  EOPNOTSUPP, ESRCH, ECONNREFUSED, EACCES,
				      EBADMSG, EBUSY, ETIMEDOUT, ENXIO, ESTALE, ENOMEM };
	int seen[32] = { 0 };

	ck_assert_int_eq(svff_exit_code(0), 0);
	ck_assert_int_eq(svff_exit_code(3), 0);
	for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
		int code = svff_exit_code(-errors[i]);

		ck_assert_int_gt(code, 0);
		ck_assert_msg(!seen[code], "exit code %d used twice", code);
		seen[code] = 1;
	}
	ck_assert_int_eq(svff_exit_code(-ETIMEDOUT), SVFF_EXIT_PARTIAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bdf");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, full_address_is_canonical);
	tcase_add_test(tc, short_address_gets_domain_zero);
	tcase_add_test(tc, malformed_addresses_are_refused);
	tcase_add_test(tc, only_canonical_form_is_valid_in_paths);
	tcase_add_test(tc, each_error_class_has_its_own_exit_code);
	suite_add_tcase(s, tc);
	return test_run(s);
}
