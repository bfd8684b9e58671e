rule autel_name
{
    meta:
        id = "autel_name"
        vendor = "autel"
        relationship = "mentions"
        confidence = "0.20"
        component = "Autel Robotics name"
        description = "The Autel Robotics name as seen in binaries (name only; Autelan, Autelis are not Autel)"
        reference = "catalog.md §2.9 [oui_wireshark]"
        weak = "true"

    strings:
        $n = "Autel Robotics" nocase ascii wide

    condition:
        $n
}
