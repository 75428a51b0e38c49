print("epbctl")
