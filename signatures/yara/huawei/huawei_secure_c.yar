rule huawei_secure_c
{
    meta:
        id = "huawei_secure_c"
        vendor = "huawei"
        relationship = "contains"
        confidence = "0.30"
        component = "Huawei Secure C (libsecurec)"
        description = "Huawei Secure C bounds-checking library (open source, widely reused: weak, needs stronger markers)"
        reference = "catalog.md §2.1, §3.3, §5 [openipc_fw]: 'Huawei Secure C V100R001C01SPC004', de-branded copy with GetHwSecureCVersion"
        weak = "true"

    strings:
        $brand = "Huawei Secure C V"
        $ver = /Secure C V[0-9]{3}R[0-9]{3}C[0-9]{2}/
        $fn1 = "getHwSecureCVersion"
        $fn2 = "GetHwSecureCVersion"

    condition:
        $brand or ($ver and 1 of ($fn*))
}
