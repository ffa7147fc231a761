"""redact(): what the public may read of a case's free text."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import CaseFactory, CitizenFactory
from tracking.models import CensorRule
from tracking.redaction import Rule, citizen_rules, find_personal_data, redact

# --- automatic masks: no database --------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "+8613912345678",
        "+86 139 1234 5678",
        "86-139-1234-5678",
    ],
)
def test_mainland_mobile_numbers_are_masked_in_any_spelling(number):
    public = redact(f"电话{number}请回电", rules=[])

    assert public == "电话***********请回电"


@pytest.mark.parametrize(
    "number",
    [
        "0531-88888888",
        "0531 88888888",
        "053188888888",
        "(010)12345678",
        "（010）12345678",
        "(0533)8123456",
        "010-62345678",
    ],
)
def test_landline_numbers_with_an_area_code_are_masked(number):
    public = redact(f"家里电话{number}，白天有人", rules=[])

    assert public == "家里电话***，白天有人"


def test_a_mobile_number_dialled_with_a_trunk_zero_is_masked():
    assert "13912345678" not in redact("来电号码013912345678", rules=[])


@pytest.mark.parametrize(
    "number", ["110101199003071234", "11010119900307123X", "11010119900307123x"]
)
def test_eighteen_digit_id_numbers_are_masked_whole(number):
    assert redact(f"身份证号{number}。", rules=[]) == "身份证号***。"


def test_e_mail_addresses_are_masked_whole_even_with_a_phone_number_inside():
    text = "邮箱zhou.jg@example.com或13912345678@qq.com"

    assert redact(text, rules=[]) == "邮箱***或***"


@pytest.mark.parametrize(
    "text",
    [
        "请拨打8890热线",
        "8890",
        "88900000",
        "热线电话：88900000。",
        "拨打8890或88900000反映",
        "拨打0531-88900000反映",
    ],
)
def test_the_public_hotline_numbers_are_never_masked(text):
    assert redact(text, rules=[]) == text


@pytest.mark.parametrize(
    "text",
    [
        "受理编号8890-20260318-00042",
        "2026年3月18日，道路长12345米",
        "罚款2000元，工期30天",
        "办理时限5个工作日",
    ],
)
def test_ordinary_numbers_are_left_alone(text):
    assert redact(text, rules=[]) == text


def test_numbers_typed_full_width_are_masked_like_any_other():
    text = (
        "电话１３９１２３４５６７８，座机（０５３１）８８８８８８８８，"
        "身份证１１０１０１１９９００３０７１２３Ｘ，邮箱ｚｊｇ＠ｅｘａｍｐｌｅ．ｃｏｍ。"
    )

    assert redact(text, rules=[]) == "电话***********，座机***，身份证***，邮箱***。"


def test_full_width_punctuation_is_kept():
    assert redact("已处理，谢谢！（市交警支队）", rules=[]) == (
        "已处理，谢谢！（市交警支队）"
    )


def test_empty_text_is_empty():
    assert redact(None, rules=[]) == ""
    assert redact("", rules=[]) == ""


def test_rules_given_as_a_one_shot_iterable_are_all_applied():
    rules = iter([Rule("幸福", "**"), Rule(r"\d+号楼", "*号楼", is_regex=True)])

    assert redact("幸福小区3号楼", rules=rules) == "**小区*号楼"


# --- the case's own citizen ---------------------------------------------------------


@pytest.fixture
def citizen_case(db):
    citizen = CitizenFactory(
        name="周建国",
        phone="13812345678",
        address="历下区幸福小区3号楼2单元401室",
        email="zjg@example.org",
    )
    return CaseFactory(citizen=citizen)


def test_the_citizens_own_name_reads_as_surname_and_mou(citizen_case):
    public = redact("周建国反映，周建国家门口路灯不亮。", case=citizen_case)

    assert public == "周某反映，周某家门口路灯不亮。"


def test_the_citizens_own_phone_and_address_are_masked_whole(citizen_case):
    public = redact(
        "请联系13812345678，地址历下区幸福小区3号楼2单元401室，周建国。",
        case=citizen_case,
    )

    assert "1381" not in public and "5678" not in public
    assert "幸福小区" not in public and "401" not in public
    assert "周建国" not in public
    assert public.endswith("周某。")


def test_an_address_containing_the_name_is_masked_whole():
    citizen = CitizenFactory.build(name="王府", phone="", address="王府井大街8号")

    assert redact("住在王府井大街8号", rules=citizen_rules(citizen)) == "住在***"


def test_the_citizens_own_phone_typed_full_width_is_masked_whole(citizen_case):
    public = redact("请回电１３８１２３４５６７８", case=citizen_case)

    assert public == "请回电***********"


def test_another_citizens_name_is_not_touched(citizen_case):
    assert redact("李四说的。", case=citizen_case) == "李四说的。"


# --- editable censor rules ----------------------------------------------------------


def censor(pattern, **kwargs):
    kwargs.setdefault("reason", "test")
    return CensorRule.objects.create(pattern=pattern, **kwargs)


@pytest.mark.django_db
def test_a_global_literal_rule_applies_to_every_case_and_to_no_case():
    censor("某某物业", replacement="涉事物业")
    first, second = CaseFactory(), CaseFactory()

    for case in (first, second, None):
        assert redact("某某物业不作为", case=case) == "涉事物业不作为"


@pytest.mark.django_db
def test_a_regex_rule_replaces_with_groups():
    censor(r"(\w)师傅", replacement=r"\1某师傅", is_regex=True)

    assert redact("维修的刘师傅说", case=CaseFactory()) == "维修的刘某师傅说"


@pytest.mark.django_db
def test_a_rule_of_one_case_does_not_apply_to_another():
    case_a, case_b = CaseFactory(), CaseFactory()
    censor("老王烧烤", case=case_a)

    assert redact("老王烧烤油烟大", case=case_a) == "***油烟大"
    assert redact("老王烧烤油烟大", case=case_b) == "老王烧烤油烟大"
    assert redact("老王烧烤油烟大") == "老王烧烤油烟大"


@pytest.mark.django_db
def test_inactive_rules_are_ignored():
    censor("老王烧烤", is_active=False)

    assert redact("老王烧烤油烟大", case=CaseFactory()) == "老王烧烤油烟大"


@pytest.mark.django_db
def test_an_invalid_regex_is_refused_by_validation():
    rule = CensorRule(pattern="(unclosed", is_regex=True, reason="test")

    with pytest.raises(ValidationError) as excinfo:
        rule.full_clean()
    assert "pattern" in excinfo.value.message_dict


@pytest.mark.django_db
def test_an_invalid_literal_pattern_is_fine_as_text():
    CensorRule(pattern="(unclosed", is_regex=False, reason="test").full_clean()


@pytest.mark.django_db
def test_an_invalid_regex_in_the_database_never_breaks_redaction():
    censor("(unclosed", is_regex=True)
    censor(r"(a)", replacement=r"\2", is_regex=True)  # bad group reference
    censor("老王烧烤")

    public = redact("老王烧烤电话13912345678", case=CaseFactory())

    assert public == "***电话***********"


@pytest.mark.django_db
def test_censor_rules_run_on_top_of_the_automatic_masks():
    # A regex rule sees masked text: it cannot bring a phone number back.
    censor(r"\*+", replacement="[已隐去]", is_regex=True)

    assert redact("电话110101199003071234", case=CaseFactory()) == "电话[已隐去]"


# --- find_personal_data: the editors' warning ---------------------------------------


def test_find_personal_data_lists_each_kind_of_hit(citizen_case):
    text = (
        "周建国（13812345678，住历下区幸福小区3号楼2单元401室）说，"
        "邻居电话139-1234-5678，座机0531-88888888，"
        "身份证110101199003071234，邮箱a.b@example.com。热线8890。"
    )

    hits = find_personal_data(text, case=citizen_case)

    assert hits == sorted(
        {
            "周建国",
            "13812345678",
            "历下区幸福小区3号楼2单元401室",
            "139-1234-5678",
            "0531-88888888",
            "110101199003071234",
            "a.b@example.com",
        }
    )


def test_find_personal_data_finds_nothing_in_clean_text(citizen_case):
    assert find_personal_data("已施划标线，拨打8890、88900000或0531-88900000。") == []
    assert find_personal_data("", case=citizen_case) == []


# --- numbers as people really write them ---------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "139 123 45678",
        "1391 234 5678",
        "13912 345678",
        "139.1234.5678",
        "139 - 1234 - 5678",
        "0086 139 1234 5678",
        "１３９　１２３４　５６７８",
    ],
)
def test_mobiles_in_any_grouping_are_masked_whole(number):
    assert redact(f"电话：{number}。", rules=[]) == "电话：***********。"


@pytest.mark.parametrize(
    "number", ["0553-8123-4567", "(0553)8123-4567", "5123456", "8123-4567", "81234567"]
)
def test_landlines_with_and_without_an_area_code_are_masked(number):
    assert redact(f"座机{number}，", rules=[]) == "座机***，"


@pytest.mark.parametrize(
    "number",
    [
        "110101900307123",
        "340202 19900101 123X",
        "340202-19900101-1234",
        "6222 0212 3456 7890",
    ],
)
def test_old_and_grouped_id_numbers_and_bank_cards_are_masked(number):
    assert redact(f"证件{number}。", rules=[]) == "证件***。"


@pytest.mark.parametrize(
    "text",
    [
        "2016-2017年度考核",
        "于20260318完成整改",
        "共服务3000000人次",
        "投资2000000元",
        "2017年11月23日，三年来接听780,000余个电话，最高一天1,809个",
        "版面A03，第12版",
    ],
)
def test_years_dates_amounts_and_counts_are_not_phone_numbers(text):
    assert redact(text, rules=[]) == text


def test_the_citizens_name_is_masked_with_a_form_of_address_or_spaces(citizen_case):
    public = redact("周先生、周女士和周 建国都说了，周师傅也说了。", case=citizen_case)

    assert public == "周某、周某和周某都说了，周某也说了。"


def test_the_private_parts_of_the_citizens_address_are_masked_alone(citizen_case):
    public = redact(
        "记者来到幸福小区，3号楼的2单元，401室门口；历下区其他路口照常。",
        case=citizen_case,
    )

    assert "幸福小区" not in public
    assert "3号楼" not in public and "2单元" not in public and "401室" not in public
    assert "历下区其他路口照常" in public


def test_a_house_number_is_masked_with_its_street_not_alone():
    citizen = CitizenFactory.build(name="", phone="", address="金胜路18号")

    public = redact("金胜路18号门口，12月18号施工。", rules=citizen_rules(citizen))

    assert public == "***门口，12月18号施工。"


def test_the_citizens_own_phone_in_another_grouping_keeps_no_digit(citizen_case):
    public = redact("请回电138 1234 5678或138-1234-5678", case=citizen_case)

    assert not any(ch.isdigit() for ch in public)


def test_redaction_never_lets_its_markers_through():
    from tracking.redaction import CLOSE, OPEN

    text = f"{OPEN}电话13912345678{CLOSE}"

    assert redact(text, rules=[]) == "电话***********"


def test_segments_join_to_the_redacted_text_and_mark_what_was_masked(citizen_case):
    from tracking.redaction import redact_segments

    text = "周建国说电话13812345678打不通"

    segments = redact_segments(text, case=citizen_case)

    assert "".join(piece for piece, _ in segments) == redact(text, case=citizen_case)
    assert segments == [
        ("周某", True),
        ("说电话", False),
        ("***********", True),
        ("打不通", False),
    ]


# --- regex rules under a time budget ------------------------------------------------


def test_a_regex_rule_that_overruns_its_budget_is_skipped_from_then_on(caplog):
    from tracking import redaction

    redaction._too_slow.discard("(a|aa)+$")
    slow = Rule("(a|aa)+$", "X", is_regex=True)
    text = "a" * 40 + "!"

    assert redact(text, rules=[slow]) == text
    assert "is skipped" in caplog.text
    assert "(a|aa)+$" in redaction._too_slow
    redaction._too_slow.discard("(a|aa)+$")


@pytest.mark.parametrize("pattern", ["(a|aa)+$", "(a|a)+b"])
def test_catastrophic_patterns_are_caught_by_the_save_time_probe(pattern):
    from tracking.redaction import check_rule_pattern

    assert check_rule_pattern(pattern) == "too slow"


@pytest.mark.parametrize("pattern", [r"(\w)师傅", r"老王(烧烤|大排档)", r"\d+号楼"])
def test_ordinary_patterns_pass_the_probe(pattern):
    from tracking.redaction import check_rule_pattern

    assert check_rule_pattern(pattern) is None
