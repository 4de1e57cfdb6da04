{#
    The p-values of marts.fct_experiment_results, in plain SQL: the same expression on
    every engine (only the error a too-large df raises is spelled per engine:
    raise_sql_error), so nothing depends on a function registered by the client's process
    (a Spark Thrift server runs none of ours).

    Precision (checked in every build, on every engine, by the data test
    assert_p_values_match_scipy against seeds/p_value_reference.csv, which
    tests/test_statistics.py recomputes with scipy): within 1e-12 relative of scipy's
    `2 * ndtr(-|z|)` and `chdtrc(df, x)` wherever the p-value is above 1e-300.

    - erfc: W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969, the
      CALERF routine of SPECFUN), three intervals, relative error below 1e-15; exp(-y²) is
      split as exp(-a²)·exp(-(y-a)(y+a)), a = y to 1/16, as Cody does, so that the tail
      keeps its precision.
    - the chi-square upper tail for an integer df, in closed form: for even df,
      exp(-x/2)·Σ (x/2)^i / i!, i < df/2; for odd df, erfc(√(x/2)) plus
      √(2x/π)·exp(-x/2)·Σ x^(i-1) / (2i-1)!!, i = 1 … (df-1)/2. Each term is one exp() of
      its logarithm, so no power or factorial overflows; terms are written out up to
      max_chi_square_df() degrees of freedom (an experiment of that many variants plus
      one), and a larger df stops the build with an error saying so.
#}

{% macro max_chi_square_df() -%}
    {{ return(100) }}
{%- endmacro %}


{# Horner's scheme: c[0]·y^n + … + c[n], as nested products (c: highest power first). #}
{% macro _horner(y, coefficients) -%}
    {%- set ns = namespace(text=coefficients[0] | string) -%}
    {%- for c in coefficients[1:] -%}
        {%- set ns.text = '(' ~ ns.text ~ ') * ' ~ y ~ ' + ' ~ c -%}
    {%- endfor -%}
    ({{ ns.text }})
{%- endmacro %}


{#
    exp(-y²), as exp(-a²)·exp(-(y-a)(y+a)) with a = floor(16y)/16 (Cody). `a` is a double:
    Spark's floor gives a bigint, and dividing it by a decimal literal gives a decimal whose
    square Spark rounds to 6 places (2.5e-7 off).
#}
{% macro _exp_minus_square(y) -%}
    {%- set a = '(cast(floor(' ~ y ~ ' * 16) as double) / 16)' -%}
    (exp(-{{ a }} * {{ a }}) * exp(-({{ y }} - {{ a }}) * ({{ y }} + {{ a }})))
{%- endmacro %}


{# erfc(y) for y >= 0 (null stays null). `y` should be a column or a cheap expression. #}
{% macro erfc_of_nonnegative(y) -%}
    {%- set s = '(' ~ y ~ ' * ' ~ y ~ ')' -%}
    {%- set inverse_s = '(1.0 / (' ~ y ~ ' * ' ~ y ~ '))' -%}
    case
        when {{ y }} is null or isnan({{ y }}) then null
        when {{ y }} <= 0.46875 then 1.0 - {{ y }}
            * {{ _horner(s, ['1.85777706184603153e-1', '3.16112374387056560e0', '1.13864154151050156e2', '3.77485237685302021e2', '3.20937758913846947e3']) }}
            / {{ _horner(s, ['1.0', '2.36012909523441209e1', '2.44024637934444173e2', '1.28261652607737228e3', '2.84423683343917062e3']) }}
        when {{ y }} <= 4.0 then {{ _exp_minus_square(y) }}
            * {{ _horner(y, ['2.15311535474403846e-8', '5.64188496988670089e-1', '8.88314979438837594e0', '6.61191906371416295e1', '2.98635138197400131e2', '8.81952221241769090e2', '1.71204761263407058e3', '2.05107837782607147e3', '1.23033935479799725e3']) }}
            / {{ _horner(y, ['1.0', '1.57449261107098347e1', '1.17693950891312499e2', '5.37181101862009858e2', '1.62138957456669019e3', '3.29079923573345963e3', '4.36261909014324716e3', '3.43936767414372164e3', '1.23033935480374942e3']) }}
        when {{ y }} < 26.543 then {{ _exp_minus_square(y) }}
            * (5.6418958354775628695e-1 - {{ inverse_s }}
                * {{ _horner(inverse_s, ['1.63153871373020978e-2', '3.05326634961232344e-1', '3.60344899949804439e-1', '1.25781726111229246e-1', '1.60837851487422766e-2', '6.58749161529837803e-4']) }}
                / {{ _horner(inverse_s, ['1.0', '2.56852019228982242e0', '1.87295284992346047e0', '5.27905102951428412e-1', '6.05183413124413191e-2', '2.33520497626869185e-3']) }}
            ) / {{ y }}
        else 0.0
    end
{%- endmacro %}


{# Two-sided p-value of a standard normal statistic: erfc(|z|/√2) = 2·Φ(-|z|). #}
{% macro normal_two_sided_p_value(z) -%}
    {{ erfc_of_nonnegative('(abs(cast(' ~ z ~ ' as double)) * 0.7071067811865476)') }}
{%- endmacro %}


{# Upper-tail probability of a chi-square statistic with df (an integer) degrees of freedom. #}
{% macro chi_square_p_value(statistic, df) -%}
    {%- set x = 'cast(' ~ statistic ~ ' as double)' -%}
    {%- set half = '(' ~ x ~ ' / 2.0)' -%}
    {%- set most = max_chi_square_df() -%}
    {%- set ns = namespace(factorial=1, odd_factorial=1) -%}
    case
        when {{ x }} is null or {{ df }} is null or {{ df }} < 1 or isnan({{ x }}) then null
        when {{ df }} > {{ most }} then cast({{ raise_sql_error(
            "chi_square_p_value: more than " ~ most ~ " degrees of freedom (an experiment of over "
            ~ (most + 1) ~ " variants): raise max_chi_square_df() in macros/statistics.sql"
        ) }} as double)
        when {{ x }} <= 0 then 1.0
        when {{ df }} % 2 = 0 then 0.0
            {%- for i in range(most // 2) %}
            {%- if i > 0 %}{% set ns.factorial = ns.factorial * i %}{% endif %}
            + case when {{ df }} > {{ 2 * i }} then exp({{ i }} * ln({{ half }}) - {{ half }} - ln({{ ns.factorial | float }})) else 0.0 end
            {%- endfor %}
        else {{ erfc_of_nonnegative('sqrt(' ~ half ~ ')') }}
            {%- for i in range(1, (most + 1) // 2) %}
            {%- set ns.odd_factorial = ns.odd_factorial * (2 * i - 1) %}
            + case when {{ df }} > {{ 2 * i }} then exp({{ i - 0.5 }} * ln({{ x }}) - {{ half }} - ln({{ ns.odd_factorial | float }}) + 0.5 * ln(2.0 / pi())) else 0.0 end
            {%- endfor %}
    end
{%- endmacro %}


{# An expression that stops the query with `message` when it is evaluated. #}
{% macro raise_sql_error(message) -%}
    {{ return(adapter.dispatch('raise_sql_error', 'dongne')(message)) }}
{%- endmacro %}

{% macro default__raise_sql_error(message) -%}
    error('{{ message }}')
{%- endmacro %}

{% macro spark__raise_sql_error(message) -%}
    raise_error('{{ message }}')
{%- endmacro %}
