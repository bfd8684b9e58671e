rule huawei_ont_config
{
    meta:
        id = "huawei_ont_config"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.80"
        component = "Huawei ONT configuration tree"
        description = "Huawei ONT configuration: two or more of the ctree/board file names or the AES key path"
        reference = "catalog.md §4 F5 [hwnp][ctree_b7n]"

    strings:
        $c1 = "hw_ctree.xml"
        $c2 = "hw_default_ctree.xml"
        $c3 = "hw_aes_tree.xml"
        $c4 = "hw_boardinfo"
        $c5 = "hw_flashcfg.xml"
        $c6 = "/etc/wap/aes_string"

    condition:
        2 of ($c*)
}
