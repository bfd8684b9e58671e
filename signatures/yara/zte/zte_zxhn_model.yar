rule zte_zxhn_model
{
    meta:
        id = "zte_zxhn_model"
        vendor = "zte"
        relationship = "made-by"
        confidence = "0.30"
        component = "ZTE ZXHN device model"
        description = "A ZTE ZXHN home-gateway model string (name only)"
        reference = "catalog.md §2.4 [zcu]: ZXHN H298N, ZXHN H108N V2.5, ZXHN H168N V3.5, ZXHN H298A V1.0"
        version_regex = "(ZXHN [FH]\\d{3}[A-Z]{0,2}(?: V[\\d.]+)?)"
        weak = "true"

    strings:
        $m = /ZXHN [FH][0-9]{3}[A-Z]{0,2}/

    condition:
        $m
}
